"""SQLite statements and aiosqlite's thread (actors/store/onehop.py): one trip at most per
statement, none for a quick read or a write under a lock already held, and a write that
must wait for another process's lock waits in the thread, never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from actors.store import onehop
from actors.store.db import AsyncEngine, AsyncSession, async_sessionmaker, create_engine

Sessions = async_sessionmaker[AsyncSession]
SLOW_COUNT = (  # a read that takes milliseconds
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'onehop.sqlite3'}"


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread, in order."""
    sent: list[str] = []
    execute = onehop.Connection._execute

    async def counted(self: onehop.Connection, work: Callable[..., Any], *args: Any) -> Any:
        sent.append(work.__name__)
        return await execute(self, work, *args)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(onehop.Connection, "_execute", counted)
    return sent


async def test_a_read_is_one_trip_then_none(engine: AsyncEngine, trips: list[str]) -> None:
    query = text("SELECT count(*) FROM t WHERE v = :v")
    async with AsyncSession(engine) as session:
        assert (await session.execute(query, {"v": "a"})).scalar() == 0
        assert trips == ["run"], "a new statement: one trip (aiosqlite's adapter made four)"
        for _ in range(5):
            assert (await session.execute(query, {"v": "a"})).scalar() == 0
    assert len(trips) == 1, "seen to be quick: on the loop's thread"


async def test_a_slow_statement_stays_in_the_thread(engine: AsyncEngine, trips: list[str]) -> None:
    slow = text(SLOW_COUNT)
    async with AsyncSession(engine) as session:
        for _ in range(2):
            assert (await session.execute(slow)).scalar() == 200_000
    assert len(trips) == 2


async def test_a_transaction_writes_first_in_the_thread_then_on_the_loop(
    engine: AsyncEngine, trips: list[str]
) -> None:
    insert = text("INSERT INTO t (v) VALUES (:v)")
    for round_ in range(2):
        trips.clear()
        async with AsyncSession(engine) as session, session.begin():
            for n in range(4):
                await session.execute(insert, {"v": f"{round_}-{n}"})
        if round_ == 1:
            assert trips == ["run", "commit"], "the first write and the commit; the rest here"
    async with AsyncSession(engine) as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 8


async def test_results_come_back_whole(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session, session.begin():
        inserted = await session.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
        assert inserted.rowcount == 3
        returned = await session.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id, v"))
        assert returned.all() == [(4, "d")]
        many = await session.execute(
            text("UPDATE t SET v = :new WHERE v = :old"),
            [{"new": "A", "old": "a"}, {"new": "B", "old": "b"}, {"new": "Z", "old": "zzz"}],
        )
        assert many.rowcount == 2
        rows = await session.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert rows.fetchmany(2) == [(1, "A"), (2, "B")]
        assert rows.fetchone() == (3, "c")
        assert rows.all() == [(4, "d")]


async def ticks_during(work: Awaitable[Any]) -> tuple[Any, int]:
    """``work``'s result, and how many 1 ms ticks the loop ran while it was awaited."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        return await work, ticks
    finally:
        running.cancel()


async def test_a_write_waiting_for_another_process_never_stops_the_loop(
    engine: AsyncEngine, url: str
) -> None:
    mine = text("INSERT INTO t (v) VALUES ('mine')")
    for _ in range(2):  # known to be quick: only the lock keeps it off the loop
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(mine)
    other = create_engine(url)  # another process's engine: its own connections and lock
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold_the_write_lock() -> None:
            async with AsyncSession(other) as session, session.begin():
                await session.execute(text("INSERT INTO t (v) VALUES ('other')"))
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold_the_write_lock())
        await holding.wait()

        async def write() -> int:
            async with AsyncSession(engine) as session:
                # a read does not wait for a writer (WAL), on the loop or not
                assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 2
            async with AsyncSession(engine) as session, session.begin():
                await session.execute(mine)
            async with AsyncSession(engine) as session:
                return int((await session.execute(text("SELECT count(*) FROM t"))).scalar_one())

        asyncio.get_running_loop().call_later(0.2, release.set)
        count, ticks = await ticks_during(write())
        await holder
    finally:
        await other.dispose()
    assert count == 4
    assert ticks >= 50, "the loop ran while the write waited 200 ms for the lock"
