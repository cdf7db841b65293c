"""Work queued by another process wakes the server's loops at once, not at their next poll."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from tests.flows.copub import follow, start_copub
from tests.flows.remote import RemoteServer
from tests.flows.test_publish import about

ROOT = Path(__file__).resolve().parents[2]
POLL = 60.0  # the server's worker would find the work this late without a wake-up


async def copub_process(config: Path, *args: str) -> str:
    """``copub`` as an operator runs it: a process of its own; its standard output."""
    argv = [sys.executable, "-m", "actors.cli", "--config", str(config), *args]
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, stdout=pipe, stderr=pipe)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_a_cli_publish_wakes_the_servers_worker(
    database_url: str, tmp_path: Path, remote: RemoteServer
) -> None:
    # Given a server whose delivery worker polls only every 60 s, and a follower
    copub = await start_copub(database_url, tmp_path, delivery={"poll_interval_seconds": POLL})
    try:
        await copub.create_community("nightshift")
        await follow(remote, remote.person("alice"), copub, "nightshift")
        # When a coordinator publishes with the command line, in another process
        out = await copub_process(
            copub.config_file, "publish", "nightshift", "story", "--title", "Handover",
            "--content", "Wake up.",
        )  # fmt: skip
        committed = time.monotonic()
        story = out.split()[-1]
        # Then the follower's server has the Create well before the worker's next poll
        await remote.wait_for(about("Create", story), timeout=POLL / 4)
        assert time.monotonic() - committed < POLL / 4
    finally:
        await copub.server.close()
    assert not copub.errors
