"""The worker as copub runs it: woken by commits, inside the app, as `copub worker`,
stopped and restarted without losing a job; and `copub deliveries`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.cli import main
from actors.community import Community
from actors.delivery import wake_on_commit, worker_lock
from actors.store.db import create_engine, sessionmaker
from actors.store.jobqueue import SqlJobQueue
from actors.web.keys import SESSIONS
from actors.web.workers import DELIVERY_WORKER
from federation.client import FederationClient
from federation.delivery.ports import Fail, JobResult
from tests import factories
from tests.conftest import ClientFactory
from tests.delivery.inboxes import (
    URLS,
    InboxServer,
    StaticKeys,
    deliveries,
    make_worker,
    publish,
    start_inbox,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def community(sessions: async_sessionmaker[AsyncSession]) -> Community:
    return await factories.create_community(sessions)


@pytest.fixture
async def inbox(community: Community) -> AsyncIterator[InboxServer]:
    server = await start_inbox(StaticKeys(community))
    yield server
    await server.close()


@pytest.fixture
async def fed_client() -> AsyncIterator[FederationClient]:
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        yield client


async def test_a_commit_wakes_the_worker_at_once(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    inbox: InboxServer,
    fed_client: FederationClient,
) -> None:
    worker = make_worker(sessions, fed_client, poll_interval=3600)  # polling will not do it
    wake_on_commit(sessions, worker)
    task = asyncio.create_task(worker.run())
    try:
        await publish(sessions, community, [inbox.url("/a")])
        await inbox.wait_for(1)
        await publish(sessions, community, [inbox.url("/b")])  # long after the first claim
        await inbox.wait_for(2)
    finally:
        worker.stop()
        await task
    assert [r.path for r in inbox.received] == ["/a", "/b"]
    assert {r.state for r in await deliveries(sessions)} == {"done"}


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_postgres_notifies_workers_in_other_processes(
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    community: Community,
    inbox: InboxServer,
    fed_client: FederationClient,
) -> None:
    worker = make_worker(sessions, fed_client, poll_interval=3600)
    task = asyncio.create_task(worker.run())
    other = create_engine(database_url)  # another process's connection pool
    try:
        await publish(sessions, community, [inbox.url("/a")])  # found by the first claim
        await inbox.wait_for(1)
        await publish(sessionmaker(other), community, [inbox.url("/b")])
        await inbox.wait_for(2)
    finally:
        worker.stop()
        await task
        await other.dispose()


async def test_stop_and_restart_lose_nothing(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    inbox: InboxServer,
    fed_client: FederationClient,
) -> None:
    for _ in range(8):
        await publish(sessions, community, [inbox.url("/inbox")])
    inbox.hold = asyncio.Event()
    worker = make_worker(sessions, fed_client, per_host=2)
    task = asyncio.create_task(worker.run())
    await inbox.wait_for(2)  # two in flight, six claimed and waiting for the host
    worker.stop()
    inbox.hold.set()
    await task

    rows = await deliveries(sessions)
    assert (
        sorted((r.state, r.attempts, r.locked_until) for r in rows)
        == [("done", 1, None)] * 2 + [("queued", 0, None)] * 6
    )
    assert await make_worker(sessions, fed_client).drain() == 6
    assert {r.state for r in await deliveries(sessions)} == {"done"}
    assert len({r.activity_id for r in inbox.received}) == 8 == inbox.count()


async def test_the_app_runs_the_worker(
    make_client: ClientFactory, database_url: str, inbox: InboxServer, community: Community
) -> None:
    client = await make_client()
    assert DELIVERY_WORKER in client.app
    await publish(client.app[SESSIONS], community, [inbox.url("/inbox")])
    await inbox.wait_for(1)

    off = factories.make_settings(database_url, delivery={"in_process_worker": False})
    other = await make_client(off)
    assert DELIVERY_WORKER not in other.app


async def test_copub_worker_delivers_until_sigterm(
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    community: Community,
    inbox: InboxServer,
    tmp_path: Path,
) -> None:
    config = factories.write_config(
        tmp_path / "worker.toml", database_url, extra="[delivery]\npoll_interval_seconds = 0.1\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "actors.cli",
        "--config",
        str(config),
        "worker",
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        await publish(sessions, community, [inbox.url("/inbox")])
        await inbox.wait_for(1, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert b"delivery worker stopped" in err
    assert {r.state for r in await deliveries(sessions)} == {"done"}


def test_copub_worker_refuses_a_second_worker_on_sqlite(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/copub.sqlite3"
    config = factories.write_config(tmp_path / "config.toml", database_url)
    with worker_lock(database_url):
        result = CliRunner().invoke(main, ["--config", str(config), "worker"])
    assert result.exit_code == 1
    assert "another delivery worker is running" in result.output


async def test_copub_deliveries_shows_the_queue(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    config_file: Path,
) -> None:
    ap_id = await publish(sessions, community, ["https://a.test/inbox", "https://b.test/inbox"])
    queue = SqlJobQueue(sessions, URLS)
    job = next(j for j in await queue.claim(10, 60) if j.inbox == "https://a.test/inbox")
    await queue.complete([JobResult(job, Fail("HTTP 403"), status=403, error="not allowed")])

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(config_file), "deliveries", *args])
        assert result.exit_code == 0, result.output
        return result.output

    output = await asyncio.to_thread(run)
    assert output.splitlines()[0] == "queued 1  retrying 0  done 0  failed 1"
    assert "https://a.test/inbox" in output
    assert "https://b.test/inbox" in output
    assert "error: HTTP 403: not allowed" in output
    assert ap_id in output
    failed_only = await asyncio.to_thread(run, "--state", "failed")
    assert "https://b.test/inbox" not in failed_only
