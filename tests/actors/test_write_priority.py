"""On SQLite, a request's write transaction goes before background work's queued ones.

One writer at a time: the process queues its write transactions on one lock. Background
loops (delivery worker, inbox processor, retention) run under ``in_background`` and take
the lock only when no request waits for it, so a Follow's key and inbox row are written
after at most the one transaction under way, not after every batch queued before them
(bench/bench_hostile.py: a relay to hundreds of followers kept four or five queued).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from actors.store.db import (
    AsyncSession,
    _WriteLock,
    async_sessionmaker,
    create_engine,
    in_background,
    sessionmaker,
)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writes.sqlite3'}")
    try:
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


class Writes:
    """Write transactions started in order while one holds the lock, and the order in
    which they ran."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.ran: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._held = asyncio.Event()
        self._release = asyncio.Event()
        self._holder: asyncio.Task[None] | None = None

    async def hold(self) -> None:
        async def holder() -> None:
            async with self.sessions.begin():
                self._held.set()
                await self._release.wait()

        self._holder = asyncio.create_task(holder())
        await self._held.wait()

    async def _write(self, name: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(text("SELECT 1"))
            self.ran.append(name)

    async def queue(self, name: str, *, background: bool = False) -> asyncio.Task[None]:
        write = self._write(name)
        task = asyncio.create_task(in_background(write) if background else write)
        self.tasks.append(task)
        await asyncio.sleep(0)  # its first step: it is waiting for the lock now
        return task

    async def release(self) -> None:
        self._release.set()
        assert self._holder is not None
        await self._holder
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_requests_write_before_queued_background_work_each_in_order(
    sessions: Sessions,
) -> None:
    # Given background writes queued behind a transaction under way, then request writes
    writes = Writes(sessions)
    await writes.hold()
    await writes.queue("claim deliveries", background=True)
    await writes.queue("record outcomes", background=True)
    await writes.queue("inbox row")
    await writes.queue("fetched key")
    # When the transaction under way ends
    await writes.release()
    # Then the requests' writes ran first, then the background's, each in order of arrival
    assert writes.ran == ["inbox row", "fetched key", "claim deliveries", "record outcomes"]


async def test_a_write_cancelled_while_waiting_leaves_the_queue(sessions: Sessions) -> None:
    writes = Writes(sessions)
    await writes.hold()
    waiting = await writes.queue("cancelled while waiting")
    await writes.queue("background", background=True)
    waiting.cancel()
    await writes.release()
    assert writes.ran == ["background"]
    assert waiting.cancelled()


async def test_a_waiter_cancelled_just_as_it_was_handed_the_lock_passes_it_on() -> None:
    lock = _WriteLock()
    await lock.acquire()
    handed = asyncio.create_task(lock.acquire())
    after = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)  # both wait
    lock.release()  # the lock is now `handed`'s, which has not run yet
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    await after  # it got the lock
    assert lock.locked()
    lock.release()
    assert not lock.locked()


async def test_background_marks_only_its_own_task(sessions: Sessions) -> None:
    # Given background work that started while this task goes on
    writes = Writes(sessions)
    await writes.hold()
    await writes.queue("background", background=True)
    # When this task writes afterwards, it is still a request
    await writes.queue("request")
    await writes.release()
    assert writes.ran == ["request", "background"]
