"""The loop that applies stored inbox items: claim, dispatch to the handlers, record.

The inbox (``federation.inbox.receive``) stores each accepted activity
(``actors.store.inbox_queue``) before its 202; :class:`InboxProcessor` applies them later,
one transaction each, so an activity that got its 202 survives a crash and is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.hooks import ObjectObserver
from actors.inbound.context import ActorLookup, InboundContext, ObjectFetch
from actors.store import inbox_queue
from actors.store.holders import Holder
from actors.store.inbox_queue import ClaimedItem
from actors.store.models import utcnow
from actors.urls import Urls
from federation.errors import FederationError, SignatureError
from federation.routing import ActivityRouter

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


class InboxProcessor:
    """The loop that applies stored inbox items, one transaction each."""

    def __init__(
        self,
        *,
        urls: Urls,
        sessions: async_sessionmaker[AsyncSession],
        router: ActivityRouter[InboundContext],
        lookup_actor: ActorLookup,
        fetch_object: ObjectFetch,
        skip_locked: bool,
        lease_seconds: float = 120.0,
        batch: int = 50,
        observers: Sequence[ObjectObserver] = (),
    ) -> None:
        self.urls = urls
        self.sessions = sessions
        self.router = router
        self.lookup_actor = lookup_actor
        self.fetch_object = fetch_object
        self.skip_locked = skip_locked
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.observers = observers
        self.wakeup = asyncio.Event()
        self.holder: Holder | None = None  # while run() runs: this process, holding leases

    def notify(self) -> None:
        self.wakeup.set()

    async def run_once(self) -> int:
        """Claim and apply the pending items; returns how many were claimed."""
        async with self.sessions.begin() as session:
            claimed = await inbox_queue.claim(
                session,
                limit=self.batch,
                lease_until=utcnow() + self.lease,
                skip_locked=self.skip_locked,
                holder=self.holder.id if self.holder is not None else None,
            )
        untouched = [item.id for item in claimed if not await self._apply(item)]
        if untouched:  # handlers that changed nothing: mark them done together
            async with self.sessions.begin() as session:
                await inbox_queue.mark_done(session, untouched)
        return len(claimed)

    async def _apply(self, item: ClaimedItem) -> bool:
        """Apply one item; True when its state was already written (done or failed)."""
        activity = json.loads(item.raw)
        attempts = item.attempts
        ctx = InboundContext(
            urls=self.urls,
            sessions=self.sessions,
            lookup_actor=self.lookup_actor,
            fetch_object=self.fetch_object,
            item_id=item.id,
            recipient_slug=item.recipient,
            observers=self.observers,
            limits=self.router.limits,
        )
        try:
            await self.router.dispatch(ctx, activity)
        except Exception as exc:
            failed = attempts + 1 >= MAX_ATTEMPTS or isinstance(exc, SignatureError)
            log.warning(
                "processing %s failed (attempt %d): %s",
                activity.get("id"),
                attempts + 1,
                exc,
                exc_info=not isinstance(exc, FederationError),
                extra={"activity_id": activity.get("id")},
            )
            retry_at = utcnow() + timedelta(seconds=min(3600, 5 * 4**attempts))
            async with self.sessions.begin() as session:
                await inbox_queue.record_failure(
                    session,
                    item.id,
                    attempts=attempts + 1,
                    error=str(exc),
                    retry_at=None if failed else retry_at,
                )
            return True
        return ctx.written

    async def run(self, poll_interval: float = 1.0) -> None:
        """Process until cancelled. First take back the items that a process killed while
        processing them left leased (actors.store.holders), so they do not wait out the
        lease."""
        try:
            try:
                self.holder = await Holder.register(self.sessions.kw["bind"])
                async with self.sessions.begin() as session:
                    await inbox_queue.reclaim(session, self.holder)
            except Exception:
                log.exception("could not take back the leases of dead processes; they expire")
            await self._loop(poll_interval)
        finally:
            holder, self.holder = self.holder, None
            if holder is not None:
                await holder.close()

    async def _loop(self, poll_interval: float) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("inbox processing loop error")
                claimed = 0
            if claimed:
                continue
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), poll_interval)
