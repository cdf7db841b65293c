"""Singletons on PostgreSQL (actors/store/singletons.py): one holder at a time of a named
piece of work, across processes; when the holder dies (its session ends) another takes
over within seconds. Processes are engines of their own on one real PostgreSQL database; a
process dies as its session is terminated by the server. On SQLite the one process of a
database simply holds every singleton."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import retention
from actors.hooks import Purger
from actors.retention import RetentionSettings
from actors.store.db import create_engine, sessionmaker
from actors.store.retention import Cutoffs
from actors.store.singletons import SINGLETONS, AdvisoryLocks, holders, lock_key, run_singleton
from tests.pg import PostgresServer

Sessions = async_sessionmaker[AsyncSession]
QUICK = {"contend_seconds": 0.05, "check_seconds": 0.05}
postgres = pytest.mark.postgres


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    name = pg_server.create_database()
    try:
        yield pg_server.url_for(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture
async def processes(pg_url: str) -> AsyncIterator[list[Sessions]]:
    """Sessions of three processes on the database: A and B contend, C looks on."""
    engines = [create_engine(pg_url) for _ in range(3)]
    try:
        yield [sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def holder_count(sessions: Sessions, name: str) -> int:
    async with sessions() as session:
        return await holders(session, name)


async def kill_holder(sessions: Sessions, name: str) -> None:
    """The process holding ``name`` dies: the server ends its session (and waits until
    it has ended)."""
    query = text(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory'"
        " AND granted AND classid::bigint = :ns AND objid::bigint = :objid AND objsubid = 2"
    )
    async with sessions() as session:
        ended = list(
            await session.scalars(query, {"ns": SINGLETONS, "objid": lock_key(name) & 0xFFFFFFFF})
        )
    assert ended == [True]


@postgres
async def test_two_holders_contend_and_the_other_takes_over_when_one_dies(
    processes: list[Sessions],
) -> None:
    a, b = AdvisoryLocks(processes[0]), AdvisoryLocks(processes[1])
    assert await a.try_lock("retention") is True
    assert await b.try_lock("retention") is False
    assert await a.try_lock("retention") is False, "another task of A asking: held already"
    assert await b.try_lock("discourse-poller") is True, "another name is another lock"
    assert await holder_count(processes[2], "retention") == 1

    await kill_holder(processes[2], "retention")
    assert await holder_count(processes[2], "retention") == 0
    assert await b.try_lock("retention") is True  # its session is gone: free at once
    assert await a.alive() is False, "A finds out it holds nothing any more"
    assert a.held == set()
    assert await a.try_lock("retention") is False

    await b.unlock("retention")  # let go: a connection of the pool, without the lock
    assert await holder_count(processes[2], "retention") == 0
    assert await a.try_lock("retention") is True
    await a.close()
    await b.close()
    assert await holder_count(processes[2], "retention") == 0
    assert await holder_count(processes[2], "discourse-poller") == 0


class Work:
    """A singleton's work that runs until cancelled, telling which process runs it."""

    def __init__(self, *processes: str) -> None:
        self.running: set[str] = set()
        self.started = {name: asyncio.Event() for name in processes}
        self.stopped = {name: asyncio.Event() for name in processes}

    def of(self, process: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            self.running.add(process)
            self.started[process].set()
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(process)
                self.stopped[process].set()

        return work


HOLDER = """
import asyncio, sys
from actors.store.db import create_engine, sessionmaker
from actors.store.singletons import run_singleton

async def work():
    print("holding", flush=True)
    await asyncio.Event().wait()

async def main():
    sessions = sessionmaker(create_engine(sys.argv[1]))
    await run_singleton(sessions, "poller", work, contend_seconds=0.05, check_seconds=0.05)

asyncio.run(main())
"""


@postgres
async def test_the_holder_dies_and_another_process_takes_over_within_seconds(
    pg_url: str, processes: list[Sessions]
) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, pg_url, stdout=asyncio.subprocess.PIPE
    )
    work = Work("B")
    contender: asyncio.Task[None] | None = None
    try:
        assert holder.stdout is not None
        async with asyncio.timeout(30):
            assert await holder.stdout.readline() == b"holding\n"
        contender = asyncio.create_task(
            run_singleton(processes[1], "poller", work.of("B"), **QUICK)
        )
        assert await holder_count(processes[2], "poller") == 1
        assert work.running == set(), "the other process holds it"

        holder.kill()  # SIGKILL: nothing is released; its session ends with it
        await holder.wait()
        died = time.monotonic()
        async with asyncio.timeout(5):
            await work.started["B"].wait()
        assert time.monotonic() - died < 5
        assert work.running == {"B"}
        assert await holder_count(processes[2], "poller") == 1
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        if contender is not None:
            contender.cancel()
            await asyncio.gather(contender, return_exceptions=True)
    assert work.running == set()
    assert await holder_count(processes[2], "poller") == 0, "released when it stopped"


@postgres
async def test_a_holder_that_loses_its_connection_stops_its_work(
    processes: list[Sessions],
) -> None:
    """Its session ends while it lives on (the database restarted, say): it stops its work
    and contends again; whoever takes it, one process runs the work."""
    work = Work("A", "B")
    tasks = [
        asyncio.create_task(run_singleton(sessions, "poller", work.of(name), **QUICK))
        for name, sessions in zip("AB", processes, strict=False)
    ]
    try:
        async with asyncio.timeout(10):
            while not work.running:
                await asyncio.wait(
                    [asyncio.create_task(e.wait()) for e in work.started.values()],
                    return_when=asyncio.FIRST_COMPLETED,
                )
        [first] = work.running
        for event in work.started.values():
            event.clear()
        await kill_holder(processes[2], "poller")
        async with asyncio.timeout(5):
            await work.stopped[first].wait()
            await asyncio.wait(
                [asyncio.create_task(e.wait()) for e in work.started.values()],
                return_when=asyncio.FIRST_COMPLETED,
            )
        assert len(work.running) == 1
        assert await holder_count(processes[2], "poller") == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert work.running == set()
    assert await holder_count(processes[2], "poller") == 0


class CountingPurger(Purger):
    """A table that records which process purged it."""

    name = "counted"

    def __init__(self, process: str, passes: list[str]) -> None:
        self.process, self.passes = process, passes

    async def count_old(self, session: AsyncSession, cutoffs: Cutoffs) -> int:
        return 0

    async def purge_batch(self, session: AsyncSession, cutoffs: Cutoffs, limit: int) -> int:
        self.passes.append(self.process)
        return 0


@postgres
async def test_one_process_of_the_fleet_purges(processes: list[Sessions]) -> None:
    settings = RetentionSettings(every_minutes=0.0005)  # a pass every 30 ms
    passes: list[str] = []
    tasks = [
        asyncio.create_task(
            retention.run_periodically(sessions, settings, [CountingPurger(name, passes)])
        )
        for name, sessions in zip("AB", processes, strict=False)
    ]
    try:
        async with asyncio.timeout(10):
            while len(passes) < 5:
                await holder_count(processes[2], retention.SINGLETON)
        assert len(set(passes)) == 1, passes
        assert await holder_count(processes[2], retention.SINGLETON) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_on_sqlite_the_one_process_holds_every_singleton(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'copub.sqlite3'}")
    try:
        sessions = sessionmaker(engine)
        locks = AdvisoryLocks(sessions)
        assert await locks.try_lock("retention") is True
        assert await locks.try_lock("retention") is False  # once at a time, still
        assert await locks.alive() is True
        ran: list[bool] = []

        async def work() -> None:
            ran.append(True)

        await run_singleton(sessions, "retention", work)
        assert ran == [True]
        await locks.close()
        assert locks.held == set()
    finally:
        await engine.dispose()
