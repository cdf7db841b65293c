"""The parent of ``copub serve --workers N`` (actors/cli/fleet.py) with stand-in members:
tiny Python processes that say they serve, or not, and exit when the test wants. And the
metrics directory it gives them (actors/web/metrics.py, ``fleet_directory``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from actors.cli.fleet import Fleet
from actors.settings import Settings, settings_from_dict
from actors.web.metrics import MULTIPROC_ENV, fleet_directory, process_gone
from tests import factories

# argv[-1] is the channel's fd (fleet.py adds --fleet-channel FD)
SERVES_THEN_DIES = "import os, sys; os.write(int(sys.argv[-1]), b'ready\\n'); sys.exit(3)"
DIES_AT_ONCE = "import sys; sys.exit(2)"
DEAD_PID = 4_999_999  # above Linux's largest pid: never a running process


def member(script: str) -> list[str]:
    return [sys.executable, "-c", script]


async def test_a_member_that_never_serves_ends_the_fleet() -> None:
    said: list[str] = []
    gone: list[int] = []
    fleet = Fleet(member(DIES_AT_ONCE), 2, say=said.append, on_exit=gone.append)
    assert await fleet.run() == 1
    assert any("exited with status 2 before it served" in line for line in said), said
    assert sorted(gone) == sorted(m.pid for m in fleet.members.values())


async def test_members_dying_again_and_again_end_the_fleet() -> None:
    # Given members that serve, then die at once
    said: list[str] = []
    gone: list[int] = []
    fleet = Fleet(member(SERVES_THEN_DIES), 1, say=said.append, on_exit=gone.append)
    # Then each is started again, until six died within a minute: exit status 1
    assert await fleet.run() == 1
    restarts = [line for line in said if "starting another" in line]
    assert len(restarts) == 5, said
    assert "exited with status 3" in restarts[0]
    assert "more than 5 exits within 60 s, stopping" in said[-1]
    assert len(gone) == 6, "every member that ended was reported once"


def metrics_on() -> Settings:
    raw = factories.settings_dict("sqlite+aiosqlite:///unused.sqlite3")
    return settings_from_dict({**raw, "metrics": {"enabled": True}})


def test_the_metrics_directory_of_a_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    # Metrics off, or one process on its own: no directory
    with fleet_directory(Settings(), 4) as none:
        assert none is None
    with fleet_directory(metrics_on(), 1) as none:
        assert none is None
    # Several processes and no directory given: one of their own, removed afterwards
    with fleet_directory(metrics_on(), 2) as own:
        assert own is not None
        assert os.path.isdir(own)
    assert not os.path.exists(own)
    # A directory given: what processes no longer running left goes, the rest stays
    given = tmp_path / "metrics"
    given.mkdir()
    dead, live = given / f"counter_{DEAD_PID}.db", given / f"counter_{os.getpid()}.db"
    other = given / "notes.txt"
    for path in (dead, live, other):
        path.write_bytes(b"")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    with fleet_directory(metrics_on(), 2) as shared:
        assert shared == str(given)
    assert sorted(p.name for p in given.iterdir()) == sorted([live.name, other.name])
    # A member that ended: its live gauges go, its counters stay
    gauge = given / f"gauge_livesum_{os.getpid()}.db"
    gauge.write_bytes(b"")
    process_gone(str(given), os.getpid())
    assert not gauge.exists()
    assert live.exists()
