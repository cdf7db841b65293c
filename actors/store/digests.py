"""SQL of the email digests: subscriptions (double opt-in) and the digest queue.

The queue is ``digest_sends``, one row per (subscription, period), leased as copub's
other durable queues are (``locked_until``: a crash leaves the lease to expire and the job
is due again; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A row is enqueued once (its
unique key), counts each attempt when it starts (``attempts``) and each outcome when it is
written (``settled``), and is marked done in the one transaction that records the digest
as sent (``sent_at``): a finished row is never claimed again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, delete, func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.digests.periods import Frequency, Period, last_closed
from actors.store.db import upsert_insert
from actors.store.jobs import Retried, retry_jobs_now
from actors.store.models_digests import DigestSendRow, DigestSubscriptionRow
from actors.store.states import PENDING_JOBS, JobState

Subscription = DigestSubscriptionRow
_CHUNK = 500  # rows per INSERT

# -- subscriptions -----------------------------------------------------------------------


async def find(session: AsyncSession, community_id: int, email: str) -> Subscription | None:
    return await session.scalar(
        select(Subscription).where(
            Subscription.community_id == community_id, Subscription.email == email
        )
    )


async def get(session: AsyncSession, subscription_id: int) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def add_pending(
    session: AsyncSession, community_id: int, email: str, frequency: Frequency, now: datetime
) -> Subscription:
    row = Subscription(community_id=community_id, email=email, frequency=frequency, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def confirmations_since(session: AsyncSession, since: datetime) -> int:
    """Confirmation emails sent since ``since`` (their rows still pending)."""
    return int(
        await session.scalar(
            select(func.count()).where(
                Subscription.confirm_sent_at >= since, Subscription.confirmed_at.is_(None)
            )
        )
        or 0
    )


async def delete_subscription(session: AsyncSession, subscription_id: int) -> bool:
    """Forget the address (and its digests' records); True if there was one."""
    result = await session.execute(delete(Subscription).where(Subscription.id == subscription_id))
    return bool(cast(CursorResult[Any], result).rowcount)


async def purge_unconfirmed(session: AsyncSession, before: datetime) -> int:
    """Delete the addresses whose confirmation link was sent before ``before`` and never
    followed: an address nobody confirmed is not kept."""
    result = await session.execute(
        delete(Subscription).where(
            Subscription.confirmed_at.is_(None),
            or_(Subscription.confirm_sent_at.is_(None), Subscription.confirm_sent_at < before),
            Subscription.created_at < before,
        )
    )
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class SubscriptionCounts:
    weekly: int
    monthly: int
    unconfirmed: int


async def subscription_counts(session: AsyncSession, community_id: int) -> SubscriptionCounts:
    rows = await session.execute(
        select(Subscription.frequency, Subscription.confirmed_at.is_(None), func.count())
        .where(Subscription.community_id == community_id)
        .group_by(Subscription.frequency, Subscription.confirmed_at.is_(None))
    )
    counts = {"weekly": 0, "monthly": 0, "unconfirmed": 0}
    for frequency, pending, n in rows:
        counts["unconfirmed" if pending else frequency] += int(n)
    return SubscriptionCounts(**counts)


# -- the queue: producers -------------------------------------------------------------------


async def enqueue_due(
    session: AsyncSession, now: datetime, domain: str, *, community_id: int | None = None
) -> int:
    """Queue the digest of each confirmed subscription's last closed period (confirmed
    before that period ended) that is not queued yet; how many were queued. Safe to run
    twice at once: the unique (subscription, period) keeps one."""
    queued = 0
    for frequency in Frequency:
        period = last_closed(now, frequency)
        done = select(DigestSendRow.id).where(
            DigestSendRow.subscription_id == Subscription.id,
            DigestSendRow.period_start == period.start,
        )
        query = select(Subscription.id, Subscription.community_id).where(
            Subscription.frequency == frequency,
            Subscription.confirmed_at.is_not(None),
            Subscription.confirmed_at < period.end,
            ~done.exists(),
        )
        if community_id is not None:
            query = query.where(Subscription.community_id == community_id)
        rows = [
            _send_row(ident, community, period, domain, now)
            for ident, community in await session.execute(query)
        ]
        queued += await _insert_sends(session, rows)
    return queued


def message_id(period: Period, subscription_id: int, domain: str) -> str:
    """The digest's Message-ID, the same for every attempt (random part: SQLite may give
    a deleted subscription's id to a new one)."""
    host = domain.split(":", 1)[0]
    return f"<digest.{period.key}.{subscription_id}.{secrets.token_hex(6)}@{host}>"


def _send_row(
    subscription_id: int, community_id: int, period: Period, domain: str, now: datetime
) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "community_id": community_id,
        "period_start": period.start,
        "period_end": period.end,
        "message_id": message_id(period, subscription_id, domain),
        "state": JobState.QUEUED,
        "attempts": 0,
        "settled": 0,
        "next_try_at": now,
        "created_at": now,
        "updated_at": now,
    }


async def _insert_sends(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert what is not there yet; how many were."""
    insert = upsert_insert(session.get_bind().dialect.name)
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        stmt = (
            insert(DigestSendRow)
            .values(list(rows[start : start + _CHUNK]))
            .on_conflict_do_nothing(index_elements=["subscription_id", "period_start"])
            .returning(DigestSendRow.id)
        )
        inserted += len((await session.execute(stmt)).all())
    return inserted


# -- the queue: the sender ------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedSend:
    """A leased digest job with its subscriber: the address is read at send time, so an
    address deleted meanwhile gets nothing."""

    id: int
    subscription_id: int
    community_id: int
    period_start: datetime
    period_end: datetime
    message_id: str
    attempts: int  # this attempt included
    settled: int
    created_at: datetime
    lease: datetime
    email: str | None  # None: unsubscribed since
    frequency: str | None

    @property
    def in_doubt(self) -> bool:
        """An earlier attempt started and its outcome was never written (the process
        stopped, or lost the database, while or after talking to the SMTP server)."""
        return self.attempts - 1 > self.settled


async def claim(
    session: AsyncSession,
    now: datetime,
    lease_seconds: float,
    *,
    postgresql_: bool,
    community_id: int | None = None,
) -> ClaimedSend | None:
    """Lease the oldest due digest job (of ``community_id``, if given), counting the
    attempt; None when none is due."""
    due = (
        select(DigestSendRow.id)
        .where(
            DigestSendRow.state.in_(PENDING_JOBS),
            DigestSendRow.next_try_at <= now,
            or_(DigestSendRow.locked_until.is_(None), DigestSendRow.locked_until < now),
        )
        .order_by(DigestSendRow.next_try_at, DigestSendRow.id)
        .limit(1)
    )
    if community_id is not None:
        due = due.where(DigestSendRow.community_id == community_id)
    if postgresql_:
        due = due.with_for_update(skip_locked=True)
    lease = now + timedelta(seconds=lease_seconds)
    row = (
        await session.execute(
            update(DigestSendRow)
            .where(DigestSendRow.id.in_(due.scalar_subquery()))
            .values(locked_until=lease, attempts=DigestSendRow.attempts + 1, updated_at=now)
            .returning(
                DigestSendRow.id, DigestSendRow.subscription_id, DigestSendRow.community_id,
                DigestSendRow.period_start, DigestSendRow.period_end, DigestSendRow.message_id,
                DigestSendRow.attempts, DigestSendRow.settled, DigestSendRow.created_at,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()  # fmt: skip
    if row is None:
        return None
    sub = (
        await session.execute(
            select(Subscription.email, Subscription.frequency).where(
                Subscription.id == row.subscription_id
            )
        )
    ).first()
    return ClaimedSend(
        **row._mapping,
        lease=lease,
        email=sub.email if sub else None,
        frequency=sub.frequency if sub else None,
    )


async def finish(
    session: AsyncSession,
    job: ClaimedSend,
    now: datetime,
    *,
    state: JobState,
    next_try_at: datetime | None = None,
    error: str | None = None,
    sent: bool = False,
) -> bool:
    """Write an attempt's outcome (``sent``: the SMTP server took the digest) if the lease
    is still this attempt's; False when it is not (it expired and another took it)."""
    values: dict[str, Any] = {
        "state": state,
        "settled": job.attempts,
        "locked_until": None,
        "last_error": error[:2000] if error else None,
        "updated_at": now,
    }
    if next_try_at is not None:
        values["next_try_at"] = next_try_at
    if sent:
        values["sent_at"] = now
    result = await session.execute(
        update(DigestSendRow)
        .where(DigestSendRow.id == job.id, DigestSendRow.locked_until == job.lease)
        .values(**values)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next pending digest may be claimed (its retry time, or its lease's end)."""
    leased = and_(
        DigestSendRow.locked_until.is_not(None),
        DigestSendRow.locked_until > DigestSendRow.next_try_at,
    )
    at = case((leased, DigestSendRow.locked_until), else_=DigestSendRow.next_try_at)
    earliest = type_coerce(func.min(at), DigestSendRow.next_try_at.type)  # UTC-aware back
    return cast(
        datetime | None,
        await session.scalar(select(earliest).where(DigestSendRow.state.in_(PENDING_JOBS))),
    )


async def retry_now(session: AsyncSession, community_id: int, now: datetime) -> Retried:
    """Make the community's waiting digests due now, and its failed ones once more."""
    return await retry_jobs_now(
        session, DigestSendRow, DigestSendRow.community_id == community_id, now
    )


async def send_counts(session: AsyncSession, community_id: int) -> dict[JobState, int]:
    rows = await session.execute(
        select(DigestSendRow.state, func.count())
        .where(DigestSendRow.community_id == community_id)
        .group_by(DigestSendRow.state)
    )
    counts = dict.fromkeys(JobState, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts


async def forget_old_sends(session: AsyncSession, before: datetime) -> int:
    """Delete the records of finished digests whose period ended before ``before`` (long
    past the last one that could be queued again)."""
    result = await session.execute(
        delete(DigestSendRow).where(
            DigestSendRow.state.in_((JobState.DONE, JobState.FAILED)),
            DigestSendRow.period_end < before,
        )
    )
    return cast(CursorResult[Any], result).rowcount


async def set_confirmation(
    session: AsyncSession, row: Subscription, frequency: Frequency, digest: str, now: datetime
) -> None:
    """A new confirmation link for a pending subscription (the last asked frequency wins)."""
    row.frequency = frequency
    row.confirm_hash = digest
    row.confirm_sent_at = now
    await session.flush()


async def confirmation_not_sent(session: AsyncSession, subscription_id: int) -> None:
    """The confirmation email could not go: its owner may ask again at once."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.confirmed_at.is_(None))
        .values(confirm_sent_at=None)
    )


async def mark_confirmed(session: AsyncSession, row: Subscription, now: datetime) -> None:
    row.confirmed_at = now
    row.confirm_hash = None  # a confirmation link works once
    await session.flush()
