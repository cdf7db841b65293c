"""Leases of dead processes: taken back when a process starts (actors/store/holders.py),
and on PostgreSQL by running delivery workers every few seconds.

Three processes, as three engines on one database: A is alive and holds a lease, B held one
and died, C starts. On PostgreSQL C takes back B's lease only (A's advisory lock shows it is
alive); on SQLite, where one process works on a database, everything leased is taken back.
An item waiting for a retry (its ``locked_until`` without a holder) is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.inbound.context import InboundContext
from actors.inbound.processor import InboxProcessor
from actors.store import inbox_queue
from actors.store.db import create_engine, is_sqlite, sessionmaker
from actors.store.holders import Holder
from actors.store.inbox_queue import InboxWriter
from actors.store.jobqueue import SqlJobQueue
from actors.store.models import DeliveryRow, InboxItemRow
from federation.clock import utcnow
from federation.delivery.ports import DeliveryJob
from federation.inbox import AcceptedActivity
from federation.routing import ActivityRouter
from federation.vocab import JSON
from tests import factories
from tests.delivery.inboxes import URLS, publish

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def processes(database_url: str) -> AsyncIterator[list[Sessions]]:
    """Sessions of three processes (A, B, C) on the test database."""
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        yield [sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def leases(sessions: Sessions, model: type[InboxItemRow] | type[DeliveryRow]) -> list[bool]:
    """Per row (by id): whether it is leased (``locked_until`` set)."""
    async with sessions() as session:
        rows = await session.scalars(select(model).order_by(model.id))
        return [row.locked_until is not None for row in rows]


async def test_inbox_leases_of_dead_processes_are_taken_back(
    processes: list[Sessions], database_url: str
) -> None:
    a, b, c = processes
    writer = InboxWriter(a, postgresql=not is_sqlite(database_url))
    for n in range(3):
        activity = {
            "id": f"https://x.example/a/{n}",
            "type": "Like",
            "actor": "https://x.example/u",
        }
        await writer.store(AcceptedActivity.of(activity, b"{}", "https://x.example/u"), None)
    alive, dead = await Holder.register(a.kw["bind"]), await Holder.register(b.kw["bind"])
    until = utcnow() + timedelta(minutes=2)
    for sessions, holder in ((a, alive), (b, dead)):
        async with sessions.begin() as session:
            await inbox_queue.claim(
                session, limit=1, lease_until=until, skip_locked=False, holder=holder.id
            )
    retry = update(InboxItemRow).where(InboxItemRow.id == 3).values(locked_until=until)
    async with c.begin() as session:  # the third waits for a retry: no holder
        await session.execute(retry)
    await dead.close()  # B dies
    starting = await Holder.register(c.kw["bind"])
    try:
        async with c.begin() as session:
            await inbox_queue.reclaim(session, starting)
    finally:
        await starting.close()
        await alive.close()
    expected = [False, False, True] if is_sqlite(database_url) else [True, False, True]
    assert await leases(c, InboxItemRow) == expected


async def test_delivery_leases_of_dead_processes_are_taken_back(
    processes: list[Sessions], database_url: str
) -> None:
    a, b, c = processes
    community = await factories.create_community(a)
    await publish(a, community, ["https://one.test/inbox", "https://two.test/inbox"])
    alive, dead = SqlJobQueue(a, URLS, holders=True), SqlJobQueue(b, URLS, holders=True)
    async with alive.watch(lambda: None):
        assert len(await alive.claim(1, lease_seconds=300)) == 1
        async with dead.watch(lambda: None):
            assert len(await dead.claim(1, lease_seconds=300)) == 1
        # B is gone; C starts
        async with SqlJobQueue(c, URLS, holders=True).watch(lambda: None):
            taken_back = await leases(c, DeliveryRow)
    expected = [False, False] if is_sqlite(database_url) else [True, False]
    assert taken_back == expected


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_running_workers_take_back_a_dead_workers_leases(
    processes: list[Sessions],
) -> None:
    """Worker B dies and is not started again: worker A, running all along, takes its
    leases back within its ``reclaim_seconds`` and is woken to send them."""
    a, b, _c = processes
    community = await factories.create_community(a)
    await publish(a, community, ["https://one.test/inbox", "https://two.test/inbox"])
    running = SqlJobQueue(a, URLS, holders=True, reclaim_seconds=0.05)
    dying = SqlJobQueue(b, URLS, holders=True)
    woken = asyncio.Event()
    async with running.watch(woken.set):
        async with dying.watch(lambda: None):
            assert len(await dying.claim(2, lease_seconds=300)) == 2
            assert running.holder is not None
            assert await running.reclaim(running.holder) == 0, "B lives: its leases stay"
            assert await running.claim(2, lease_seconds=300) == []
        # B's process is gone (its holder's lock with it); its leases stay behind
        taken: list[DeliveryJob] = []
        async with asyncio.timeout(5):
            while len(taken) < 2:
                await woken.wait()  # (a wake-up may come from elsewhere: claim each time)
                woken.clear()
                taken += await running.claim(2, lease_seconds=300)
    assert sorted(job.inbox for job in taken) == [
        "https://one.test/inbox",
        "https://two.test/inbox",
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_running_inbox_processor_takes_back_a_dead_processs_items(
    processes: list[Sessions],
) -> None:
    """Web process B dies while applying an item and is not started again: A's inbox
    processor, running all along, takes the item back within its ``reclaim_seconds``."""
    a, b, _c = processes
    applied: list[str] = []
    done = {n: asyncio.Event() for n in range(2)}

    async def on_like(_ctx: InboundContext, activity: JSON) -> None:
        applied.append(activity["id"])
        done[int(activity["id"].rsplit("/", 1)[1])].set()

    router: ActivityRouter[InboundContext] = ActivityRouter()
    router.on("Like", on_like)
    writer = InboxWriter(b, postgresql=True)
    await writer.store(_like(0), None)
    dying = await Holder.register(b.kw["bind"])
    until = utcnow() + timedelta(minutes=2)
    async with b.begin() as session:  # B is applying it
        await inbox_queue.claim(session, limit=1, lease_until=until, skip_locked=True,
                                holder=dying.id)  # fmt: skip
    processor = InboxProcessor(
        urls=URLS, sessions=a, router=router, lookup_actor=_nothing, fetch_object=_nothing,
        skip_locked=True, reclaim_seconds=0.05,
    )  # fmt: skip
    running = asyncio.create_task(processor.run(poll_interval=60))
    try:
        async with asyncio.timeout(10):
            # A is past its start (it applies an item queued since) and B still lives
            await writer.store(_like(1), None)
            await done[1].wait()
            assert applied == [_like(1).activity["id"]], "B's item stays B's while it lives"
            await dying.close()  # B is gone
            await done[0].wait()
    finally:
        processor.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert sorted(applied) == sorted(_like(n).activity["id"] for n in range(2))


def _like(n: int) -> AcceptedActivity:
    activity = {"id": f"https://x.example/likes/{n}", "type": "Like",
                "actor": "https://x.example/u", "object": "https://x.example/n/1"}  # fmt: skip
    return AcceptedActivity.of(activity, json.dumps(activity).encode(), activity["actor"])


async def _nothing(iri: str, _community: Community | None) -> Any:
    raise AssertionError(f"nothing is fetched here ({iri})")
