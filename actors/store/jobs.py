"""The durable delivery queue, producers' and operators' side: one ``deliveries`` row per
(activity, inbox).

Producers call :func:`follower_inboxes` and :func:`enqueue_deliveries` inside the
transaction that stores the activity, so an activity never exists without its jobs (or,
for a fan-out to many inboxes, the stored lists the worker queues them from). The
worker's side is :class:`SqlJobQueue` in ``jobqueue.py`` (not imported here: a producer,
such as ``copub publish``, has no use for the worker's keys and their cryptography).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    String,
    Table,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actors.store import memo, wakeups
from actors.store.db import after_commit, upsert_insert
from actors.store.models import (
    ActivityRow,
    Base,
    BlockRow,
    DeliveryRow,
    FanoutRow,
    FollowerRow,
    UTCDateTime,
)
from actors.store.states import FINISHED_JOBS, PENDING_JOBS, FollowerState, JobState
from federation.clock import utcnow
from federation.origins import host_of

__all__ = [
    "FANOUTS",
    "FANOUT_AT_ONCE",
    "UNDONE",
    "WAKE_INFO_KEY",
    "DeliveryView",
    "Fanout",
    "Retried",
    "delivery_stats",
    "enqueue_deliveries",
    "follower_inboxes",
    "list_deliveries",
    "queue_next_chunk",
    "retry_jobs_now",
    "unqueued",
    "write_deliveries",
]

log = logging.getLogger(__name__)

UNDONE = (JobState.QUEUED, JobState.RETRYING, JobState.FAILED)  # what an operator looks at
WAKE_INFO_KEY = "copub.delivery_wake"  # Session.info: called after a commit that enqueued
CHUNK = 500  # rows a delivery insert writes at most
# deliveries a transaction queues: an item's own when it has no more, the worker's per chunk
# of a stored fan-out. 700 rows held SQLite's write lock 6-48 ms in a bench's database
# (270,000 queued jobs); 128, about 1.3 ms.
FANOUT_AT_ONCE = 128
# the table, not the mapped class: a Core executemany, without the ORM's bulk insert per row
DELIVERIES = cast(Table, DeliveryRow.__table__)
FANOUTS = cast(Table, FanoutRow.__table__)

# -- producers ------------------------------------------------------------------------------


async def follower_inboxes(
    session: AsyncSession, community_id: int, *, exclude_actors: Iterable[str] = ()
) -> list[str]:
    """Where to deliver to all accepted followers: each follower's shared inbox if it has
    one, else its own inbox, without duplicates (in the order followers came); blocked
    actors and domains (of this community or server-wide), and ``exclude_actors`` (say, the
    linked community an item came from), are left out."""
    excluded = frozenset(exclude_actors)
    key = ("follower inboxes", community_id, excluded)
    return list(
        await memo.remembered(
            session, key, lambda: _follower_inboxes(session, community_id, excluded)
        )
    )


async def blocked(session: AsyncSession, community_id: int) -> tuple[set[str], set[str]]:
    """The actors and the domains (lower case) blocked in the community or server-wide."""
    blocks = await session.execute(
        select(BlockRow.kind, BlockRow.value).where(
            or_(BlockRow.community_id.is_(None), BlockRow.community_id == community_id)
        )
    )
    actors: set[str] = set()
    domains: set[str] = set()
    for kind, value in blocks:
        if kind == "actor":
            actors.add(value)
        else:
            domains.add(value.lower())
    return actors, domains


async def _follower_inboxes(
    session: AsyncSession, community_id: int, exclude_actors: Iterable[str]
) -> list[str]:
    actors, domains = await blocked(session, community_id)
    actors |= set(exclude_actors)
    target = func.coalesce(FollowerRow.shared_inbox, FollowerRow.inbox)
    accepted = (
        FollowerRow.community_id == community_id,
        FollowerRow.state == FollowerState.ACCEPTED,
    )
    if not domains:  # the usual case: let the database collapse the inboxes
        query = select(target).where(*accepted).group_by(target).order_by(func.min(FollowerRow.id))
        if actors:
            query = query.where(FollowerRow.actor_id.not_in(actors))
        return list(await session.scalars(query))
    rows = await session.execute(
        select(FollowerRow.actor_id, target).where(*accepted).order_by(FollowerRow.id)
    )
    inboxes: dict[str, None] = {}
    for actor_id, inbox in rows:
        if actor_id in actors or host_of(actor_id) in domains or host_of(inbox) in domains:
            continue
        inboxes[inbox] = None
    return list(inboxes)


async def enqueue_deliveries(
    session: AsyncSession, activity_id: int, community_id: int, inboxes: Iterable[str]
) -> int:
    """Queue one job per distinct inbox in the caller's transaction; returns how many
    inboxes were given (a job that already exists for the same activity and inbox is kept).
    A fan-out to more than ``FANOUT_AT_ONCE`` inboxes is stored and queued by the delivery
    worker (:func:`write_deliveries`).

    After the commit the in-process worker is woken (when the session carries its wake-up
    callback), else the process running the worker (``actors.store.wakeups``); on
    PostgreSQL every worker process is notified."""
    planned = [Fanout(activity_id, community_id, list(inboxes))]
    return await session.run_sync(write_deliveries, planned)


@dataclass(frozen=True)
class Fanout:
    """An activity to deliver to ``inboxes``."""

    activity_id: int
    community_id: int
    inboxes: list[str]


def write_deliveries(session: Session, planned: Sequence[Fanout]) -> int:
    """Queue the deliveries of ``planned`` in ``session``'s transaction (synchronous:
    SQLAlchemy's layer, in its greenlet) and wake the worker after the commit; returns the
    number of jobs. A fan-out to more than ``FANOUT_AT_ONCE`` inboxes is stored as
    ``fanouts`` rows of that many inboxes, which the worker turns into jobs a row at a time
    (:func:`queue_next_chunk`): the transaction that stores an item does not also write
    hundreds of jobs. A community's fan-outs are queued in the order they came: while one
    of it waits, the next waits behind it, so an inbox gets an item's Delete after its
    Create."""
    now = utcnow()
    waiting = set(
        session.scalars(
            select(FANOUTS.c.community_id)
            .where(FANOUTS.c.community_id.in_({p.community_id for p in planned}))
            .distinct()
        )
    )
    rows: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    for p in planned:
        own = delivery_rows(p.activity_id, p.community_id, p.inboxes, now)
        if len(own) <= FANOUT_AT_ONCE and p.community_id not in waiting:
            rows.extend(own)
            continue
        waiting.add(p.community_id)
        for start in range(0, len(own), FANOUT_AT_ONCE):
            chunk = [row["inbox"] for row in own[start : start + FANOUT_AT_ONCE]]
            stored.append(
                {
                    "activity_id": p.activity_id,
                    "community_id": p.community_id,
                    "inboxes": chunk,
                    "created_at": now,
                }
            )
    _insert_jobs(session, rows)
    if stored:
        session.execute(insert(FANOUTS), stored)
    if rows or stored:
        _wake_worker(session)
    return len(rows) + sum(len(f["inboxes"]) for f in stored)


def queue_next_chunk(session: Session, *, skip_locked: bool = False) -> bool:
    """Queue the jobs of the oldest stored chunk of a fan-out, in ``session``'s transaction
    (the delivery worker's, one per chunk); False when none is stored. ``skip_locked``
    (PostgreSQL): workers queueing at once take different chunks."""
    oldest = select(FANOUTS).order_by(FANOUTS.c.id).limit(1)
    if skip_locked:
        oldest = oldest.with_for_update(skip_locked=True)
    chunk = session.execute(oldest).first()
    if chunk is None:
        return False
    now = utcnow()
    _insert_jobs(session, delivery_rows(chunk.activity_id, chunk.community_id, chunk.inboxes, now))
    session.execute(delete(FANOUTS).where(FANOUTS.c.id == chunk.id))
    return True


def _insert_jobs(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    wait_for_open_circuits(rows, session.execute(open_circuits(rows)))
    insert_rows = upsert_insert(session.get_bind().dialect.name)
    stmt = insert_rows(DELIVERIES).on_conflict_do_nothing(index_elements=["activity_id", "inbox"])
    for start in range(0, len(rows), CHUNK):
        session.execute(stmt, rows[start : start + CHUNK])


def _wake_worker(session: Session) -> None:
    """After the commit, wake the in-process worker (when the session carries its wake-up
    callback), else the process running it; on PostgreSQL notify every worker process."""
    wake = session.info.get(WAKE_INFO_KEY)
    if callable(wake):
        after_commit(session, wake)  # this process's worker
    if session.get_bind().dialect.name == "postgresql" or not callable(wake):
        wakeups.announce_in(session, wakeups.DELIVERIES)  # other processes' workers


# peer_health's circuit (models_peers.PeerHealthRow), named here without its model: a
# command that queues deliveries (copub publish) loads no more than it uses
_CIRCUITS = table("peer_health", column("host", String), column("open_until", UTCDateTime))


def open_circuits(rows: Sequence[dict[str, Any]]) -> Select[str, datetime | None]:
    """The hosts of these ``deliveries`` rows whose circuit is open, with when it closes."""
    hosts = {row["host"] for row in rows}
    host, open_until = _CIRCUITS.c.host, _CIRCUITS.c.open_until
    return select(host, open_until).where(host.in_(hosts), open_until > rows[0]["next_try_at"])


def wait_for_open_circuits(
    rows: Sequence[dict[str, Any]], circuits: Iterable[tuple[str, datetime | None]]
) -> None:
    """A job queued for a host whose circuit is open is first due when it closes: a relay
    to dead followers' servers is not claimed and put back, job by job, until then."""
    until = {host: at for host, at in circuits if at is not None}
    if until:
        for row in rows:
            row["next_try_at"] = until.get(row["host"], row["next_try_at"])


def delivery_rows(
    activity_id: int, community_id: int, inboxes: Iterable[str], now: datetime
) -> list[dict[str, Any]]:
    """The ``deliveries`` rows of one job per distinct valid inbox, queued ``now``."""
    rows = []
    for inbox in dict.fromkeys(inboxes):
        host = host_of(inbox)
        if host is None:
            log.warning("not delivering to invalid inbox %r", inbox, extra={"inbox": inbox})
            continue
        rows.append(
            {
                "activity_id": activity_id,
                "community_id": community_id,
                "inbox": inbox,
                "host": host,
                "state": JobState.QUEUED,
                "attempts": 0,
                "next_try_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


# -- for operators --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryView:
    id: int
    activity: str
    inbox: str
    state: JobState
    attempts: int
    next_try_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Retried:
    """What a retry-now changed: jobs made due now (``waiting``: queued or retrying;
    ``failed``: given up before, now to be tried once more); ``peer_reset``: the host's
    health was reset too (``actors.store.peer_health.reset_host``)."""

    waiting: int
    failed: int
    peer_reset: bool = False

    @property
    def total(self) -> int:
        return self.waiting + self.failed


async def retry_jobs_now(
    session: AsyncSession, table: type[Base], where: ColumnElement[bool], now: datetime
) -> Retried:
    """Make the undone jobs of ``table`` that match ``where`` due now: the waiting ones, and
    the failed ones once more (their attempts stay counted, so the retry policy gives each
    one more try at most). For any table of retried jobs (``state``, ``next_try_at``,
    ``updated_at`` as ``deliveries`` has them): deliveries, the Discourse adapter's jobs."""
    columns = table.__table__.c
    waiting = await session.execute(
        update(table)
        .where(where, columns.state.in_(PENDING_JOBS))
        .values(next_try_at=now, updated_at=now)
    )
    failed = await session.execute(
        update(table)
        .where(where, columns.state == JobState.FAILED)
        .values(state=JobState.RETRYING, next_try_at=now, updated_at=now)
    )
    return Retried(
        cast(CursorResult[Any], waiting).rowcount, cast(CursorResult[Any], failed).rowcount
    )


async def delivery_stats(session: AsyncSession) -> dict[JobState, int]:
    """Number of jobs in each state (every state present, zero included); the deliveries
    of stored fan-outs the worker has not queued yet count as queued."""
    rows = await session.execute(
        select(DeliveryRow.state, func.count()).group_by(DeliveryRow.state)
    )
    counts = dict.fromkeys(JobState, 0)
    counts.update({state: int(n) for state, n in rows})
    counts[JobState.QUEUED] += int(await session.scalar(select(unqueued())) or 0)
    return counts


def unqueued() -> ColumnElement[int]:
    """How many deliveries the stored fan-outs (``FANOUTS``' rows selected) have not queued
    yet: queued ones, for whoever counts jobs."""
    return func.coalesce(func.sum(func.json_array_length(FANOUTS.c.inboxes)), 0)


async def list_deliveries(
    session: AsyncSession, states: Sequence[str] = UNDONE, limit: int = 50
) -> list[DeliveryView]:
    """Jobs in ``states``, the next to be tried first (failed ones: the latest first)."""
    rows = await session.execute(
        select(DeliveryRow, ActivityRow.ap_id)
        .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
        .where(DeliveryRow.state.in_(states))
        .order_by(
            (DeliveryRow.state.in_(FINISHED_JOBS)).asc(),
            DeliveryRow.next_try_at.asc(),
            DeliveryRow.updated_at.desc(),
        )
        .limit(limit)
    )
    return [
        DeliveryView(
            id=row.id,
            activity=ap_id,
            inbox=row.inbox,
            state=row.state,
            attempts=row.attempts,
            next_try_at=row.next_try_at,
            last_status=row.last_status,
            last_error=row.last_error,
            created_at=row.created_at,
        )
        for row, ap_id in rows
    ]
