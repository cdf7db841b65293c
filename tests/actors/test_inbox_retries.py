"""The inbox processor and an item whose handler fails.

It is tried again 5 s, 20 s, 80 s, 320 s and 1,280 s after each failure (never more than an
hour), and fails for good at the sixth attempt; a signature that does not verify is not
tried again. Each failure is recorded with its reason.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.inbound.context import InboundContext
from actors.inbound.processor import InboxProcessor
from actors.store.db import is_sqlite
from actors.store.inbox_queue import InboxWriter
from actors.store.models import InboxItemRow, RemoteActorRow
from federation.clock import utcnow
from federation.errors import FederationError, FetchError, SignatureError
from federation.inbox import AcceptedActivity
from federation.routing import ActivityRouter
from federation.vocab import JSON
from tests.delivery.inboxes import URLS

Sessions = async_sessionmaker[AsyncSession]
LIKE: JSON = {"id": "https://peer.example/likes/1", "type": "Like",
              "actor": "https://peer.example/u", "object": "https://peer.example/n/1"}  # fmt: skip


async def _nothing_fetched(iri: str, _community: Community | None) -> RemoteActorRow:
    raise AssertionError(f"nothing is fetched here ({iri})")


async def _no_object(iri: str, _community: Community | None) -> JSON:
    raise AssertionError(f"nothing is fetched here ({iri})")


async def _processor(
    sessions: Sessions, database_url: str, error: FederationError
) -> InboxProcessor:
    async def failing(_ctx: InboundContext, _activity: JSON) -> None:
        raise error

    router: ActivityRouter[InboundContext] = ActivityRouter()
    router.on("Like", failing)
    writer = InboxWriter(sessions, postgresql=not is_sqlite(database_url))
    body = json.dumps(LIKE).encode()
    await writer.store(AcceptedActivity.of(LIKE, body, LIKE["actor"]), None)
    return InboxProcessor(
        urls=URLS,
        sessions=sessions,
        router=router,
        lookup_actor=_nothing_fetched,
        fetch_object=_no_object,
        skip_locked=not is_sqlite(database_url),
    )


async def _item(sessions: Sessions) -> InboxItemRow:
    async with sessions() as session:
        row = await session.scalar(select(InboxItemRow))
        assert row is not None
        return row


async def test_a_failing_item_is_retried_on_schedule_then_given_up(
    sessions: Sessions, database_url: str
) -> None:
    processor = await _processor(sessions, database_url, FetchError("peer.example is down"))
    waits: list[float] = []
    for attempt in range(1, 7):
        before = utcnow()
        assert await processor.run_once() == 1
        row = await _item(sessions)
        assert (row.attempts, row.error) == (attempt, "peer.example is down")
        if attempt == 6:
            break
        assert row.state == "pending"
        assert row.locked_until is not None
        assert row.locked_by is None  # waiting for its retry, not leased
        waits.append((row.locked_until - before).total_seconds())
        assert await processor.run_once() == 0, "not due before its retry time"
        async with sessions.begin() as session:  # its retry time has come
            await session.execute(update(InboxItemRow).values(locked_until=before))
    assert [round(w) for w in waits] == [5, 20, 80, 320, 1280]
    assert row.state == "failed"
    assert await processor.run_once() == 0


async def test_a_signature_that_does_not_verify_is_not_retried(
    sessions: Sessions, database_url: str
) -> None:
    processor = await _processor(sessions, database_url, SignatureError("forged"))
    assert await processor.run_once() == 1
    row = await _item(sessions)
    assert (row.state, row.attempts, row.error) == ("failed", 1, "forged")
