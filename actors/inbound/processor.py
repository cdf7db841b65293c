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
from collections.abc import Callable, Sequence
from datetime import timedelta

from actors.community import Community
from actors.hooks import ObjectObserver
from actors.inbound.arrivals import DEFER_SECONDS, Arrivals
from actors.inbound.batch import Batch
from actors.inbound.context import ActorLookup, InboundContext, ObjectFetch
from actors.store import inbox_queue, peer_health, queries, wakeups
from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.holders import Holder, holding
from actors.store.inbox_queue import ClaimedItem
from actors.store.models import RemoteActorRow
from actors.threads.limits import DEFAULT_THREAD_SETTINGS, ThreadSettings
from actors.urls import Urls
from federation.clock import utcnow
from federation.delivery.ports import Fail, Retry
from federation.delivery.retry import RetryPolicy
from federation.errors import FederationError, SignatureError
from federation.jsonld import compact_activity, renames_terms
from federation.origins import host_of
from federation.routing import ActivityRouter
from federation.vocab import JSON, actor_of, get_id

log = logging.getLogger(__name__)

# An item whose handler failed is tried again 5 s, 20 s, 80 s, 320 s and 1,280 s later (never
# more than an hour), however long ago it came; the sixth failure is final.
INBOX_RETRY = RetryPolicy(
    base_seconds=5.0,
    factor=4.0,
    max_delay_seconds=3600.0,
    jitter=0.0,
    max_age_seconds=None,
    max_attempts=6,
)


def named_objects(claimed: Sequence[ClaimedItem]) -> frozenset[str]:
    """The objects the items name (their object, and what it replies to), bounded: a
    batch reads them together (actors.store.memo)."""
    names: set[str] = set()
    for item in claimed:
        try:
            activity = json.loads(item.raw)
        except ValueError:
            continue
        obj = activity.get("object") if isinstance(activity, dict) else None
        for value in (obj, obj.get("inReplyTo") if isinstance(obj, dict) else None):
            name = get_id(value)
            if name is not None and len(name) <= inbox_queue.MAX_IRI:
                names.add(name)
    return frozenset(names)


def following(claimed: Sequence[ClaimedItem], urls: Urls) -> dict[str, str]:
    """The actors of the items that are Follows of a community here: actor -> its slug."""
    found: dict[str, str] = {}
    for item in claimed:
        if not item.actor or '"Follow"' not in item.raw:
            continue
        try:
            activity = json.loads(item.raw)
        except ValueError:
            continue
        target = get_id(activity.get("object")) if isinstance(activity, dict) else None
        slug = urls.community_slug_of(target) if target else None
        if slug and activity.get("type") == "Follow" and actor_of(activity) == item.actor:
            found[item.actor] = slug
    return found


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
        retry: RetryPolicy = INBOX_RETRY,
        observe_lag: Callable[[float], None] | None = None,
        threads: ThreadSettings = DEFAULT_THREAD_SETTINGS,
        reclaim_seconds: float = 10.0,
        defer_seconds: float = DEFER_SECONDS,
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
        self.retry = retry
        # metrics: seconds from an item's arrival to the end of its processing, each attempt
        self.observe_lag = observe_lag
        self.threads = threads  # a reply's missing conversation: how much is fetched
        self.wakeup = asyncio.Event()
        self.holder: Holder | None = None  # while run() runs: this process, holding leases
        self.reclaim_seconds = reclaim_seconds  # PostgreSQL: how often dead ones' are taken
        self._stopping = False
        # the loop waits while the inbox's POSTs keep coming (actors.inbound.arrivals)
        self.arrivals = Arrivals(defer_seconds=defer_seconds)

    def notify(self) -> None:
        self.wakeup.set()

    def arrived(self) -> None:
        """An inbox POST stored its item: wake the loop, which waits for the POSTs to pause
        (for at most ``defer_seconds``) before it claims."""
        self.arrivals.arrived()
        self.wakeup.set()

    def stop(self) -> None:
        """Ask ``run()`` to return: it claims nothing more. Its caller also cancels the batch
        under way (those items' leases are taken back at the next start). The flag, not the
        cancellation, is what ends the loop: a cancellation can come back as an ordinary
        error (SQLAlchemy's ``AsyncSession`` context manager raises the error of the commit
        it finishes instead of the cancellation it received meanwhile), which the loop
        logs and goes on from."""
        self._stopping = True
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
            # Their servers are alive: one that deliveries failed to is well again.
            origins = {host_of(item.activity_id) for item in claimed}
            await peer_health.heard_from(session, {h for h in origins if h}, utcnow())
        await self._apply_batch(claimed)
        return len(claimed)

    async def _apply_batch(self, claimed: Sequence[ClaimedItem]) -> None:
        """Apply ``claimed`` in order in one transaction (``actors.inbound.batch``), which
        commits early when due. An item that raises rolls back the open transaction; the
        items of that transaction and the one that raised are then applied one by one,
        each in a transaction of its own, its failure recorded as before."""
        actors = frozenset(item.actor for item in claimed if item.actor)
        batch = Batch(self.sessions, actors, named_objects(claimed))
        batch.known_actors = await self._look_up_followers(claimed)
        by_id = {item.id: item for item in claimed}
        try:
            for item in claimed:
                try:
                    if batch.due():
                        await batch.commit()
                    activity = await self._read(item)
                    await self.router.dispatch(self._context(item, batch), activity)
                except Exception:  # noqa: BLE001 (applied again alone, failures recorded)
                    again = [*batch.unsaved, *await batch.rollback(), item.id]
                    batch.unsaved.clear()
                    for item_id in again:
                        await self._apply_alone(by_id[item_id])
                    continue
                batch.finished.append(item.id)
                self._observe(item)
            try:
                await batch.commit()
            except Exception:  # noqa: BLE001 (applied again alone)
                for item_id in batch.unsaved:
                    await self._apply_alone(by_id[item_id])
        finally:
            await batch.rollback()  # what a cancellation left open; nothing after the commit

    async def _apply_alone(self, item: ClaimedItem) -> None:
        if not await self._apply_observed(item):  # a handler that changed nothing
            async with self.sessions.begin() as session:
                await inbox_queue.mark_done(session, [item.id])

    def _context(self, item: ClaimedItem, batch: Batch | None) -> InboundContext:
        lookup_actor, fetch_object = self.lookup_actor, self.fetch_object
        if batch is not None:  # what the batch holds is committed before a fetch

            async def lookup_actor(actor_id: str, community: Community | None) -> RemoteActorRow:
                if actor_id not in batch.known_actors:  # else found here without a fetch
                    await batch.before_network()
                return await self.lookup_actor(actor_id, community)

            async def fetch_object(url: str, community: Community | None) -> JSON:
                await batch.before_network()
                return await self.fetch_object(url, community)

        return InboundContext(
            urls=self.urls,
            sessions=self.sessions,
            lookup_actor=lookup_actor,
            fetch_object=fetch_object,
            item_id=item.id,
            recipient_slug=item.recipient,
            observers=self.observers,
            limits=self.router.limits,
            thread_limits=self.threads,
            batch=batch,
        )

    async def _look_up_followers(self, claimed: Sequence[ClaimedItem]) -> frozenset[str]:
        """The actors of the batch's Follows of a community here, looked up (fetched if
        need be, on the community's behalf) together before its transaction opens: their
        handlers then find them stored, and the batch is not committed for each fetch.
        Those that could not be looked up are left to their handlers."""
        follows = following(claimed, self.urls)
        if not follows:
            return frozenset()
        async with self.sessions() as session:
            communities = {
                s: await queries.get_community(session, s) for s in set(follows.values())
            }
        actors = list(follows)
        found = await asyncio.gather(
            *(self.lookup_actor(a, communities[follows[a]]) for a in actors),
            return_exceptions=True,
        )
        return frozenset(
            a for a, row in zip(actors, found, strict=True) if isinstance(row, RemoteActorRow)
        )

    def _observe(self, item: ClaimedItem) -> None:
        if self.observe_lag is not None:
            self.observe_lag((utcnow() - item.received_at).total_seconds())

    async def _read(self, item: ClaimedItem) -> JSON:
        """The stored activity; one whose context renames ActivityStreams terms compacted
        first (in a thread: pyld takes milliseconds), when it is at most ``[limits]
        max_jsonld_bytes`` and that can be done (``federation.jsonld.compact_activity``),
        else as it came."""
        activity: JSON = json.loads(item.raw)
        if not renames_terms(activity):
            return activity
        if len(item.raw.encode()) <= self.router.limits.max_jsonld_bytes:
            compacted = await asyncio.to_thread(compact_activity, activity)
            if compacted is not None:
                return compacted
        log.info(
            "%s renames ActivityStreams terms and was not compacted: read as it came",
            activity.get("id"),
            extra={"activity_id": activity.get("id")},
        )
        return activity

    async def _apply_observed(self, item: ClaimedItem) -> bool:
        written = await self._apply(item)
        self._observe(item)
        return written

    async def _apply(self, item: ClaimedItem) -> bool:
        """Apply one item; True when its state was already written (done or failed)."""
        activity = await self._read(item)
        ctx = self._context(item, None)
        try:
            await self.router.dispatch(ctx, activity)
        # Last resort: whatever a handler raises is recorded on the item (retried or failed)
        # and the loop goes on with the next one.
        except Exception as exc:  # noqa: BLE001 (see above)
            await self._failed(item, activity, exc)
            return True
        return ctx.written

    async def _failed(self, item: ClaimedItem, activity: JSON, exc: Exception) -> None:
        """Record a failed attempt: tried again at the policy's time, or failed for good
        (a signature that does not verify will not verify later)."""
        attempts = item.attempts + 1
        log.warning(
            "processing %s failed (attempt %d): %s",
            activity.get("id"),
            attempts,
            exc,
            exc_info=not isinstance(exc, FederationError),
            extra={"activity_id": activity.get("id")},
        )
        decision = (
            Fail("the signature does not verify")
            if isinstance(exc, SignatureError)
            else self.retry.retry(attempts, item.received_at, utcnow())
        )
        async with self.sessions.begin() as session:
            await inbox_queue.record_failure(
                session,
                item.id,
                attempts=attempts,
                error=str(exc),
                retry_at=decision.at if isinstance(decision, Retry) else None,
            )

    async def run(self, poll_interval: float = 1.0) -> None:
        """Process until ``stop()``. First take back the items that a process killed while
        processing them left leased (actors.store.holders), so they do not wait out the
        lease. On PostgreSQL, also every ``reclaim_seconds`` while it runs: another web
        process of a fleet killed and not started again leaves its items to the others."""
        bind = self.sessions.kw["bind"]
        try:
            # items queued by other processes (a held post approved) wake the loop at once
            async with (
                holding(
                    bind, self._reclaim, every=self.reclaim_seconds, wake=self.notify
                ) as self.holder,
                wakeups.listening(bind, wakeups.INBOX, self.notify),
            ):
                await self._loop(poll_interval)
        finally:
            self.holder = None

    async def _reclaim(self, holder: Holder) -> int:
        async with self.sessions.begin() as session:
            return await inbox_queue.reclaim(session, holder)

    async def _while_posts_come(self) -> None:
        """Accept first: wait while the inbox's POSTs keep coming, for at most
        ``defer_seconds`` after the first not claimed (actors.inbound.arrivals)."""
        wait = self.arrivals.wait()
        while wait > 0 and not self._stopping:
            await asyncio.sleep(wait)
            wait = self.arrivals.wait()

    async def _loop(self, poll_interval: float) -> None:
        while not self._stopping:
            await self._while_posts_come()
            since = self.arrivals.claiming()
            try:
                claimed = await self.run_once()
                self.arrivals.claimed(since, drained=claimed < self.batch)
            except Exception:
                log.exception("inbox processing loop error")
                claimed = 0
            if claimed or self._stopping:
                continue
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), poll_interval)
