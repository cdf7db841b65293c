"""The inbox queue's SQL: the ``inbox_items`` table, from 202 to applied.

The inbox stores accepted activities through :class:`InboxWriter` (group commit; it is the
``federation.inbox.InboxStore`` port). The processor (``actors.inbound.processor``) leases
pending items with :func:`claim`, and records each outcome: :func:`mark_done` (also called by
a handler's write transaction, ``actors.inbound.context``) or :func:`record_failure`. At
start it takes back what a killed process left leased with :func:`reclaim`
(``actors.store.holders``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import wakeups
from actors.store.holders import Holder, holder_is_dead, reclaimed
from actors.store.models import InboxItemRow
from actors.store.states import InboxState
from federation.clock import utcnow
from federation.inbox import AcceptedActivity
from federation.vocab import actor_of


def _length(column: Any) -> int:
    return int(cast(String, column.type).length or 0)


# the longest activity id and actor id the table holds (federation.inbox.InboxLimits.max_iri)
MAX_IRI = min(_length(InboxItemRow.activity_id), _length(InboxItemRow.actor_id))
# the table: the group commit is one Core executemany, not the ORM's bulk insert
INBOX_ITEMS = cast(Table, InboxItemRow.__table__)


def item_values(accepted: AcceptedActivity, recipient: str | None) -> dict[str, Any]:
    """The row of an accepted activity; ``recipient``: the slug of the community whose inbox
    it came to (None: the shared inbox)."""
    return {
        "activity_id": accepted.id,
        "dedupe_key": accepted.dedupe_key,
        "activity_type": accepted.type[:64],
        "actor_id": accepted.actor,
        "community_slug": recipient,
        "ap_raw": accepted.body.decode("utf-8"),
        "state": InboxState.PENDING,
        "attempts": 0,
        "received_at": utcnow(),
    }


async def enqueue_again(
    session: AsyncSession, activity: dict[str, Any], recipient: str, key: str
) -> None:
    """Queue an activity received before (and kept elsewhere) to be applied again, in the
    caller's transaction: a held post a coordinator approved. ``key`` names this second
    application once (the inbox's own key, signer and id, is taken by the first)."""
    session.add(
        InboxItemRow(
            activity_id=str(activity.get("id", ""))[:MAX_IRI],
            dedupe_key=hashlib.sha256(key.encode()).hexdigest(),
            activity_type=str(activity.get("type", ""))[:64],
            actor_id=str(actor_of(activity) or "")[:MAX_IRI],
            community_slug=recipient,
            ap_raw=json.dumps(activity),
            state=InboxState.PENDING,
            attempts=0,
            received_at=utcnow(),
        )
    )
    await session.flush()
    await wakeups.announce(session, wakeups.INBOX)  # the processor of another process


class InboxWriter:
    """Group commit: concurrent inbox requests share one transaction.

    Each caller waits until its row is committed (durable before the 202). While one
    batch is being written the next one gathers; a duplicate (same signer origin
    and activity id, see ``federation.inbox.dedupe_key``) is ignored.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, postgresql: bool, max_batch: int = 500
    ) -> None:
        self._sessions = sessions
        self._insert = pg_insert if postgresql else sqlite_insert
        self._max_batch = max_batch
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing = False

    async def store(self, accepted: AcceptedActivity, recipient: str | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item_values(accepted, recipient), future))
        if not self._flushing:
            self._flushing = True
            try:
                while self._pending:
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    await self._write(batch)
            finally:
                self._flushing = False
        await future

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            async with self._sessions.begin() as session:
                rows = list({v["dedupe_key"]: v for v, _ in batch}.values())
                await session.execute(self._insert(INBOX_ITEMS).on_conflict_do_nothing(), rows)
        except Exception as exc:  # noqa: BLE001 (not swallowed: each waiting caller gets it)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """A pending item leased to the processor."""

    id: int
    raw: str  # the activity as received
    recipient: str | None  # the community slug of the inbox it came to (None: shared)
    attempts: int  # attempts made before this one
    received_at: datetime
    activity_id: str = ""  # its id, on the origin of the key that signed it
    actor: str = ""  # its actor


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    lease_until: datetime,
    skip_locked: bool,
    holder: int | None = None,
) -> list[ClaimedItem]:
    """Lease up to ``limit`` pending items to ``holder`` (actors.store.holders)."""
    now = utcnow()
    query = (
        select(InboxItemRow)
        .where(
            InboxItemRow.state == InboxState.PENDING,
            or_(InboxItemRow.locked_until.is_(None), InboxItemRow.locked_until < now),
        )
        .order_by(InboxItemRow.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    if rows:
        await session.execute(
            update(InboxItemRow)
            .where(InboxItemRow.id.in_([r.id for r in rows]))
            .values(locked_until=lease_until, locked_by=holder)
        )
    return [
        ClaimedItem(
            r.id, r.ap_raw, r.community_slug, r.attempts, r.received_at, r.activity_id, r.actor_id
        )
        for r in rows
    ]


async def mark_done(session: AsyncSession, item_ids: Sequence[int]) -> None:
    """The items were applied (or there was nothing to apply), in the caller's transaction."""
    await session.execute(
        update(InboxItemRow).where(InboxItemRow.id.in_(item_ids)).values(state=InboxState.DONE)
    )


async def record_failure(
    session: AsyncSession,
    item_id: int,
    *,
    attempts: int,
    error: str,
    retry_at: datetime | None,
) -> None:
    """An attempt failed: ``attempts`` made so far; pending again from ``retry_at`` (not a
    lease: it has no holder), or failed for good when it is None."""
    await session.execute(
        update(InboxItemRow)
        .where(InboxItemRow.id == item_id)
        .values(
            attempts=attempts,
            error=error[:2000],
            state=InboxState.PENDING if retry_at is not None else InboxState.FAILED,
            locked_until=retry_at,
            locked_by=None,
        )
    )


async def reclaim(session: AsyncSession, holder: Holder) -> int:
    """Release the items leased by processes that are gone (all leases on SQLite, where the
    one process that processes them is starting); returns how many. A pending item with no
    ``locked_by`` waits for its retry time and is left alone."""
    leased = [InboxItemRow.state == InboxState.PENDING, InboxItemRow.locked_by.is_not(None)]
    if holder.postgresql:
        leased.append(holder_is_dead(InboxItemRow.locked_by))
    result = await session.execute(
        update(InboxItemRow)
        .where(*leased)
        .values(locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False)
    )
    return reclaimed(result.rowcount, "inbox items")  # type: ignore[attr-defined]
