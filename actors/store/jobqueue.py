"""The worker's side of the delivery queue: ``federation.delivery.ports.JobQueue`` over SQL.

:class:`SqlJobQueue` leases due rows by setting ``locked_until`` (an expired lease makes a
job due again, so a crash loses nothing); on PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED``, so several worker processes never claim the same job. On
SQLite the claim is one ``UPDATE ... RETURNING`` statement (SQLite serialises writers); run
one worker there. Work enqueued by another process wakes the worker
(``actors.store.wakeups``). What a killed worker held leased is taken back when a worker
starts and, on PostgreSQL, by the running ones within ``reclaim_seconds``
(``actors.store.holders``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, Update, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actors.store import jobs, wakeups
from actors.store.holders import Holder, holder_is_dead, holding, reclaimed
from actors.store.models import (
    ActivityRow,
    CommunityRow,
    DeliveryRow,
    FollowerRow,
    ServerKeyRow,
)
from actors.store.states import PENDING_JOBS, JobState
from actors.urls import Urls
from federation.clock import utcnow
from federation.delivery.ports import Defer, DeliveryJob, Done, Fail, Gone, JobResult, Retry
from federation.keys import Signer, load_private_key

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = wakeups.pg_channel(wakeups.DELIVERIES)  # "copub_deliveries"
RECLAIM_SECONDS = 10.0  # how often a worker looks for the leases of dead ones (PostgreSQL)


class SqlJobQueue:
    """``JobQueue`` over the ``deliveries`` table (SQLite or PostgreSQL).

    Give it the process's sessionmaker: on SQLite that one queues every write transaction
    of the process on one lock. Bodies and signers are cached per process (an activity is
    sent to many inboxes)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        urls: Urls,
        *,
        cache_size: int = 256,
        clock: Callable[[], datetime] = utcnow,
        holders: bool = False,
        reclaim_seconds: float = RECLAIM_SECONDS,
    ) -> None:
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("SqlJobQueue needs sessions bound to an AsyncEngine")
        self.engine = engine
        self.clock = clock
        self.urls = urls
        self.sessions = sessions
        self.postgres = engine.dialect.name == "postgresql"
        # activity -> (its id, its body, whether the moderation actor sends it)
        self._bodies: OrderedDict[int, tuple[str, bytes, bool]] = OrderedDict()
        self._moderation_signer: Signer | None = None
        self._signers: OrderedDict[int, Signer] = OrderedDict()
        self._cache_size = cache_size
        self._holders = holders
        self.reclaim_seconds = reclaim_seconds
        self.holder: Holder | None = None  # while watch() runs, with ``holders``

    async def prepare(self) -> None:
        """Load the signing keys of the communities (up to the cache size), parsing each
        PEM once in a thread: parsing costs about a hundred signatures."""
        recent = select(CommunityRow.id).order_by(CommunityRow.id.desc()).limit(self._cache_size)
        async with self.sessions() as session:
            _bodies, signers = await self._load(session, set(), set(await session.scalars(recent)))
        for signer in signers.values():
            await asyncio.to_thread(load_private_key, signer.private_key_pem)

    async def claim(self, limit: int, lease_seconds: float) -> list[DeliveryJob]:
        """Due jobs, and while fewer than ``limit``, the next chunk of a stored fan-out
        queued (``jobs.queue_next_chunk``), each chunk in a transaction of its own."""
        claimed = await self._claim_due(limit, lease_seconds)
        while len(claimed) < limit and await self._queue_fanout():
            claimed += await self._claim_due(limit - len(claimed), lease_seconds)
        return claimed

    async def _queue_fanout(self) -> bool:
        async with self.sessions.begin() as session:
            return await session.run_sync(jobs.queue_next_chunk, skip_locked=self.postgres)

    async def _claim_due(self, limit: int, lease_seconds: float) -> list[DeliveryJob]:
        now = self.clock()
        lease = now + timedelta(seconds=lease_seconds)
        stmt = self._lease_due(limit, now, lease)
        async with self.sessions.begin() as session:
            claimed = (await session.execute(stmt)).all()
            if not claimed:
                return []
            bodies, signers = await self._load(
                session, {r.activity_id for r in claimed}, {r.community_id for r in claimed}
            )
            if self._moderation_signer is None and any(b[2] for b in bodies.values()):
                self._moderation_signer = await self._server_signer(session)
        due = []
        for r in claimed:
            ap_id, body, by_moderation = bodies[r.activity_id]
            signer = signers[r.community_id]
            if by_moderation and self._moderation_signer is not None:
                signer = self._moderation_signer
            due.append(
                DeliveryJob(
                    id=r.id,
                    inbox=r.inbox,
                    host=r.host,
                    body=body,
                    signer=signer,
                    attempts=r.attempts,
                    created_at=r.created_at,
                    lease_until=lease,
                    activity_id=ap_id,
                )
            )
        return due

    def _lease_due(self, limit: int, now: datetime, lease: datetime) -> Update:
        """The statement leasing up to ``limit`` due jobs until ``lease``, returning them."""
        due = (
            select(DeliveryRow.id)
            .where(
                DeliveryRow.state.in_(PENDING_JOBS),
                DeliveryRow.next_try_at <= now,
                or_(DeliveryRow.locked_until.is_(None), DeliveryRow.locked_until < now),
            )
            .order_by(DeliveryRow.next_try_at)
            .limit(limit)
        )
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        return (
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(due.scalar_subquery()))
            .values(
                locked_until=lease,
                locked_by=self.holder.id if self.holder is not None else None,
                updated_at=now,
            )
            .returning(
                DeliveryRow.id,
                DeliveryRow.inbox,
                DeliveryRow.host,
                DeliveryRow.attempts,
                DeliveryRow.created_at,
                DeliveryRow.activity_id,
                DeliveryRow.community_id,
            )
            .execution_options(synchronize_session=False)
        )

    async def _load(
        self, session: AsyncSession, activities: set[int], communities: set[int]
    ) -> tuple[dict[int, tuple[str, bytes, bool]], dict[int, Signer]]:
        """(ap_id, body, sent by the moderation actor) by activity and Signer by community,
        from the caches or the database (then remembered)."""
        bodies = {a: self._bodies[a] for a in activities if a in self._bodies}
        missing = activities - bodies.keys()
        if missing:
            rows = await session.execute(
                select(ActivityRow.id, ActivityRow.ap_id, ActivityRow.ap_json).where(
                    ActivityRow.id.in_(missing)
                )
            )
            for ident, ap_id, ap_json in rows:
                body = json.dumps(ap_json, ensure_ascii=False, separators=(",", ":")).encode()
                by_moderation = ap_json.get("actor") == self.urls.moderation()
                bodies[ident] = (ap_id, body, by_moderation)
        signers = {c: self._signers[c] for c in communities if c in self._signers}
        missing = communities - signers.keys()
        if missing:
            rows = await session.execute(
                select(CommunityRow.id, CommunityRow.slug, CommunityRow.private_key_pem).where(
                    CommunityRow.id.in_(missing)
                )
            )
            for ident, slug, pem in rows:
                signers[ident] = Signer(self.urls.community_key(slug), pem)
        for cache, loaded in ((self._bodies, bodies), (self._signers, signers)):
            for key, value in loaded.items():
                _remember(cache, key, value, self._cache_size)
        return bodies, signers

    async def _server_signer(self, session: AsyncSession) -> Signer | None:
        """The moderation actor's signer: the server's key under the actor's key id."""
        pem = await session.scalar(select(ServerKeyRow.private_key_pem).limit(1))
        return None if pem is None else Signer(self.urls.moderation_key(), pem)

    async def complete(self, results: Sequence[JobResult]) -> None:
        if not results:
            return
        now = self.clock()
        attempted: list[dict[str, Any]] = []
        deferred: list[dict[str, Any]] = []
        hosts_wait: dict[str, datetime] = {}  # host: until when all its waiting jobs wait
        gone: set[str] = set()
        for result in results:
            job, decision = result.job, result.decision
            if isinstance(decision, Defer):
                deferred.append({"b_id": job.id, "b_lease": job.lease_until, "b_next": decision.at})
                if decision.host_wide:
                    hosts_wait[job.host] = max(decision.at, hosts_wait.get(job.host, decision.at))
                continue
            state, next_try, error = JobState.FAILED, None, result.error
            if isinstance(decision, Done):
                state = JobState.DONE
            elif isinstance(decision, Retry):
                state, next_try = JobState.RETRYING, decision.at
            elif isinstance(decision, Gone):
                gone.add(job.inbox)
                error = "410 Gone: followers at this inbox removed"
            elif isinstance(decision, Fail):
                error = f"{decision.reason}: {error}" if error else decision.reason
            attempted.append(
                {
                    "b_id": job.id,
                    "b_lease": job.lease_until,
                    "b_state": state,
                    "b_attempts": job.attempts + 1,
                    "b_next": next_try,
                    "b_status": result.status,
                    "b_error": error[:2000] if error else None,
                    "b_now": now,
                }
            )
        async with self.sessions.begin() as session:
            if attempted:
                await session.execute(_ATTEMPTED, attempted)
            if deferred:
                await session.execute(_DEFERRED, [{**d, "b_now": now} for d in deferred])
            if hosts_wait:
                await session.execute(
                    _HOST_WAITS,
                    [{"b_host": h, "b_next": at, "b_now": now} for h, at in hosts_wait.items()],
                )
            if gone:
                await session.execute(
                    delete(FollowerRow).where(
                        or_(FollowerRow.inbox.in_(gone), FollowerRow.shared_inbox.in_(gone))
                    )
                )
                log.info(
                    "removed followers at %d gone inboxes",
                    len(gone),
                    extra={"inboxes": sorted(gone)},
                )

    @contextlib.asynccontextmanager
    async def watch(self, wake: Callable[[], None]) -> AsyncIterator[None]:
        """While the worker runs: with ``holders``, hold this process's leases as a
        :class:`Holder` and first take back those of dead processes; wake when other
        processes enqueue (``actors.store.wakeups``: LISTEN, or a socket on SQLite)."""
        async with self._holding(wake), wakeups.listening(self.engine, wakeups.DELIVERIES, wake):
            yield

    @contextlib.asynccontextmanager
    async def _holding(self, wake: Callable[[], None]) -> AsyncIterator[None]:
        if not self._holders:
            yield
            return
        try:
            async with holding(
                self.engine, self.reclaim, every=self.reclaim_seconds, wake=wake
            ) as self.holder:
                yield
        finally:
            self.holder = None

    async def reclaim(self, holder: Holder) -> int:
        """Release the deliveries leased by processes that are gone; returns how many. On
        SQLite every lease is then a dead process's: run it with the worker lock held
        (``actors.delivery.worker_lock``), as the worker does."""
        leased: list[ColumnElement[bool]] = [
            DeliveryRow.state.in_(PENDING_JOBS),
            DeliveryRow.locked_until.is_not(None),
        ]
        if holder.postgresql:
            leased += [DeliveryRow.locked_by.is_not(None), holder_is_dead(DeliveryRow.locked_by)]
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(DeliveryRow)
                .where(*leased)
                .values(locked_until=None, locked_by=None)
                .execution_options(synchronize_session=False)
            )
        return reclaimed(result.rowcount, "deliveries")  # type: ignore[attr-defined]


def _remember(cache: OrderedDict[int, Any], key: int, value: Any, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


_TABLE = cast(Table, DeliveryRow.__table__)
_LEASED = (_TABLE.c.id == bindparam("b_id")) & (_TABLE.c.locked_until == bindparam("b_lease"))
_ATTEMPTED = (
    update(_TABLE)
    .where(_LEASED)
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_try_at=func.coalesce(
            bindparam("b_next", type_=_TABLE.c.next_try_at.type), _TABLE.c.next_try_at
        ),
        locked_until=None,
        locked_by=None,
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        updated_at=bindparam("b_now"),
    )
)
_DEFERRED = (
    update(_TABLE)
    .where(_LEASED)
    .values(
        next_try_at=bindparam("b_next"),
        locked_until=None,
        locked_by=None,
        updated_at=bindparam("b_now"),
    )
)
# A host that takes nothing before b_next: its waiting jobs due sooner wait until then
# (not those leased: their own outcomes say)
_HOST_WAITS = (
    update(_TABLE)
    .where(
        _TABLE.c.host == bindparam("b_host"),
        _TABLE.c.state.in_(PENDING_JOBS),
        _TABLE.c.next_try_at < bindparam("b_next"),
        or_(_TABLE.c.locked_until.is_(None), _TABLE.c.locked_until < bindparam("b_now")),
    )
    .values(next_try_at=bindparam("b_next"), updated_at=bindparam("b_now"))
)
