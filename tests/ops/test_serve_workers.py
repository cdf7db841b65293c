"""``copub serve --workers N`` (actors/cli/fleet.py): N web processes on one port, on
PostgreSQL. Real processes (``python -m actors.cli serve``); which process answered is read
from the metrics each one writes to the shared directory (one file per process).

- Two processes answer on one port; /metrics (either of them) adds up both; a member
  killed with SIGKILL is replaced; SIGTERM to the parent stops every member, exit 0.
- A member whose parent is killed stops by itself.
- Members that cannot serve (the port taken) end the fleet with exit status 1.
- SQLite refuses more than one process, saying why and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import CollectorRegistry

from actors.cli import main as copub_main
from actors.web.metrics import MULTIPROC_ENV
from tests import factories
from tests.flows.copub import config_dict
from tests.ops.conftest import scrape
from tests.pg import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90  # three interpreters importing the app at once on a busy machine
ROUTE = {"method": "GET", "route": "/healthz", "status": "2xx"}
DEAD_PID = 4_999_999  # above Linux's largest pid: never a running process

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@dataclass
class Parent:
    """A running ``copub serve --workers N`` and the lines it prints."""

    process: asyncio.subprocess.Process
    port: int
    log_file: Path

    async def line(self, pattern: str) -> re.Match[str]:
        """The next line of its output that matches ``pattern`` (those before are skipped)."""
        assert self.process.stdout is not None
        async with asyncio.timeout(STARTUP_SECONDS):
            while True:
                raw = await self.process.stdout.readline()
                assert raw, f"copub serve exited ({await self.process.wait()}):\n{self.log}"
                found = re.search(pattern, raw.decode())
                if found is not None:
                    return found

    async def members(self) -> list[int]:
        found = await self.line(r"web processes serving \(pids ([\d, ]+)\)")
        return [int(pid) for pid in found.group(1).split(", ")]

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace")[-4000:]


def write_config(tmp_path: Path, database_url: str, port: int, metrics_port: int) -> Path:
    raw = config_dict(
        database_url, port, metrics={"enabled": True, "listen": f"127.0.0.1:{metrics_port}"}
    )
    return factories.write_toml(tmp_path / "config.toml", raw)


@contextlib.asynccontextmanager
async def serve(
    config: Path, port: int, workers: int, metrics_dir: Path, tmp_path: Path
) -> AsyncIterator[Parent]:
    log_file = tmp_path / "serve.log"
    with log_file.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "actors.cli", "--config", str(config)),
            *("serve", "--workers", str(workers)),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, MULTIPROC_ENV: str(metrics_dir), "PYTHONUNBUFFERED": "1"},
        )
    parent = Parent(process, port, log_file)
    try:
        yield parent
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def get_healthz(port: int, times: int) -> list[int]:
    """``times`` GETs of /healthz, each on a new connection (the kernel picks a process
    for each connection); their statuses."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = []
        for _ in range(times):
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                statuses.append(response.status)
        return statuses


def answered_by(metrics_dir: Path, pid: int, scratch: Path) -> float:
    """How many /healthz requests process ``pid`` answered: its own metrics files alone,
    read as the scrape reads them all."""
    own = scratch / str(pid)
    own.mkdir()
    for path in metrics_dir.glob(f"*_{pid}.db"):
        shutil.copy(path, own / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(own))  # type: ignore[no-untyped-call]
    value = registry.get_sample_value("copub_http_request_duration_seconds_count", ROUTE)
    return value or 0.0


async def exited(pid: int) -> None:
    """Return when process ``pid`` (not necessarily a child of ours) has ended."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    loop.add_reader(fd, ended.set)  # a pidfd becomes readable when its process ends
    try:
        await ended.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@postgres_only
async def test_two_processes_serve_one_port_and_stop_on_sigterm(
    database_url: str, tmp_path: Path, metrics_port: int
) -> None:
    # Given a metrics directory left with the files of a process that is long gone
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    stale = metrics_dir / f"counter_{DEAD_PID}.db"
    stale.write_bytes(b"")
    port = free_port()
    config = write_config(tmp_path, database_url, port, metrics_port)
    # When copub serves with two web processes
    async with serve(config, port, 2, metrics_dir, tmp_path) as parent:
        pids = await parent.members()
        assert len(set(pids)) == 2
        assert parent.process.pid not in pids
        assert not stale.exists(), "what an earlier process left is not added to this run"
        # Then 40 requests on new connections to the one port are all answered
        assert await get_healthz(port, 40) == [200] * 40
        # And /metrics counts them once, whichever process answers the scrape
        assert (await scrape(metrics_port)).value(
            "copub_http_request_duration_seconds_count", **ROUTE
        ) == 40
        # And both processes answered some of them
        each = [answered_by(metrics_dir, pid, tmp_path) for pid in pids]
        assert all(n > 0 for n in each), each
        assert sum(each) == 40

        # When one of them is killed
        os.kill(pids[0], signal.SIGKILL)
        # Then another takes its place, and the port answers throughout
        await parent.line(rf"web process \d \(pid {pids[0]}\) exited with SIGKILL")
        replaced = int((await parent.line(r"web process \d \(pid (\d+)\) serving")).group(1))
        assert replaced not in pids
        assert await get_healthz(port, 10) == [200] * 10
        assert (await scrape(metrics_port)).value(
            "copub_http_request_duration_seconds_count", **ROUTE
        ) == 50, "the killed process's counts stay in the total"

        # When the parent is told to stop
        parent.process.send_signal(signal.SIGTERM)
        await parent.line(r"stopping 2 web processes")
        async with asyncio.timeout(60):
            code = await parent.process.wait()
        # Then it stops cleanly, with every web process, and the port is closed
        assert code == 0, parent.log
        assert not any(running(pid) for pid in (pids[1], replaced))
        with pytest.raises(aiohttp.ClientConnectionError):
            await get_healthz(port, 1)
        assert "Traceback" not in parent.log, parent.log


@postgres_only
async def test_members_stop_when_their_parent_is_killed(
    database_url: str, tmp_path: Path, metrics_port: int
) -> None:
    # Given copub serving with two web processes
    metrics_dir = tmp_path / "metrics"
    port = free_port()
    config = write_config(tmp_path, database_url, port, metrics_port)
    async with serve(config, port, 2, metrics_dir, tmp_path) as parent:
        pids = await parent.members()
        # When the parent is killed, with no chance to stop them
        parent.process.kill()
        await parent.process.wait()
        # Then they stop by themselves (their channel to it closed)
        async with asyncio.timeout(60):
            await asyncio.gather(*(exited(pid) for pid in pids))
    assert "the parent process is gone: stopping" in parent.log


@postgres_only
async def test_members_that_cannot_serve_end_the_fleet(
    database_url: str, tmp_path: Path, metrics_port: int
) -> None:
    # Given the port taken by a socket of another program (no SO_REUSEPORT)
    port = free_port()
    config = write_config(tmp_path, database_url, port, metrics_port)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        # When copub serves there with two processes
        async with serve(config, port, 2, tmp_path / "metrics", tmp_path) as parent:
            # Then it says that they exited before serving, and exits with status 1
            await parent.line(r"web process \d \(pid \d+\) exited with status 1 before it served")
            async with asyncio.timeout(60):
                assert await parent.process.wait() == 1


def test_sqlite_refuses_several_processes(tmp_path: Path) -> None:
    # Given a config on SQLite
    url = f"sqlite+aiosqlite:///{tmp_path / 'copub.sqlite3'}"
    config = factories.write_config(tmp_path / "config.toml", url)
    # When asked to serve with two processes
    result = CliRunner().invoke(copub_main, ["--config", str(config), "serve", "--workers", "2"])
    # Then it refuses before doing anything, saying why and what to do instead
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "--workers 2: SQLite takes one process per database" in message
    assert "the same activity applied or sent twice" in message
    assert "PostgreSQL" in message
    assert not (tmp_path / "copub.sqlite3").exists(), "nothing was created"
