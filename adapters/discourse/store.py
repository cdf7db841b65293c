"""All SQL of the adapter: the post mapping, topic states, the cursor and the job queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.store import PENDING_JOBS, JobState, wakeups
from actors.store.jobs import retry_jobs_now
from actors.store.retention import PurgeTarget, finished_jobs
from adapters.discourse.models import (
    ForumJobKind,
    ForumJobRow,
    ForumPostRow,
    ForumStateRow,
    ForumTopicRow,
)
from federation.clock import utcnow

# -- mapping ------------------------------------------------------------------------------


async def links_of_topic(
    session: AsyncSession, community_id: int, topic_id: int
) -> list[ForumPostRow]:
    rows = await session.scalars(
        select(ForumPostRow).where(
            ForumPostRow.community_id == community_id, ForumPostRow.topic_id == topic_id
        )
    )
    return list(rows)


async def link_of_post(
    session: AsyncSession, community_id: int, post_id: int
) -> ForumPostRow | None:
    return await session.scalar(
        select(ForumPostRow).where(
            ForumPostRow.community_id == community_id, ForumPostRow.post_id == post_id
        )
    )


async def link_of_object(session: AsyncSession, object_ap_id: str) -> ForumPostRow | None:
    return await session.scalar(
        select(ForumPostRow).where(ForumPostRow.object_ap_id == object_ap_id)
    )


async def count_links(session: AsyncSession, community_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(ForumPostRow.origin, func.count())
        .where(ForumPostRow.community_id == community_id, ForumPostRow.deleted.is_(False))
        .group_by(ForumPostRow.origin)
    )
    return {origin: int(n) for origin, n in rows}


# -- topics and the cursor ----------------------------------------------------------------


async def topic_state(
    session: AsyncSession, community_id: int, topic_id: int
) -> ForumTopicRow | None:
    return await session.scalar(
        select(ForumTopicRow).where(
            ForumTopicRow.community_id == community_id, ForumTopicRow.topic_id == topic_id
        )
    )


async def topic_states(
    session: AsyncSession, community_id: int, topic_ids: Iterable[int]
) -> dict[int, ForumTopicRow]:
    rows = await session.scalars(
        select(ForumTopicRow).where(
            ForumTopicRow.community_id == community_id,
            ForumTopicRow.topic_id.in_(list(topic_ids)),
        )
    )
    return {row.topic_id: row for row in rows}


async def live_topic_ids(session: AsyncSession, community_id: int) -> set[int]:
    rows = await session.scalars(
        select(ForumTopicRow.topic_id).where(
            ForumTopicRow.community_id == community_id, ForumTopicRow.deleted.is_(False)
        )
    )
    return set(rows)


async def topics_to_recheck(
    session: AsyncSession, community_id: int, *, recent: int, limit: int
) -> list[tuple[int, str]]:
    """(topic id, stored bumped_at) of up to ``limit`` live topics among the ``recent``
    newest, the least recently synced first."""
    newest = (
        select(ForumTopicRow.topic_id, ForumTopicRow.bumped_at, ForumTopicRow.synced_at)
        .where(ForumTopicRow.community_id == community_id, ForumTopicRow.deleted.is_(False))
        .order_by(ForumTopicRow.topic_id.desc())
        .limit(recent)
        .subquery()
    )
    rows = await session.execute(
        select(newest.c.topic_id, newest.c.bumped_at)
        .order_by(newest.c.synced_at, newest.c.topic_id)
        .limit(limit)
    )
    return [(int(topic_id), str(bumped_at or "")) for topic_id, bumped_at in rows]


async def forum_state(session: AsyncSession, community_id: int) -> ForumStateRow:
    """The community's sync state, created on first use."""
    row = await session.get(ForumStateRow, community_id)
    if row is None:
        row = ForumStateRow(community_id=community_id)
        session.add(row)
        await session.flush()
    return row


# -- the job queue ------------------------------------------------------------------------

# Jobs queued (or made due) by a process wake the job loop of the process running it
# (``actors.store.wakeups``): ``copub discourse retry``, another process of a fleet
JOBS_CHANNEL = "discourse_jobs"


async def enqueue(
    session: AsyncSession,
    community_id: int,
    kind: ForumJobKind,
    *,
    object_ap_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> ForumJobRow:
    now = utcnow()
    row = ForumJobRow(
        community_id=community_id,
        kind=kind,
        object_ap_id=object_ap_id,
        payload=payload or {},
        state=JobState.QUEUED,
        attempts=0,
        next_try_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await wakeups.announce(session, JOBS_CHANNEL)
    return row


async def has_pending_write(session: AsyncSession, object_ap_id: str, kind: ForumJobKind) -> bool:
    found = await session.scalar(
        select(ForumJobRow.id)
        .where(
            ForumJobRow.object_ap_id == object_ap_id,
            ForumJobRow.kind == kind,
            ForumJobRow.state.in_(PENDING_JOBS),
        )
        .limit(1)
    )
    return found is not None


async def claim_job(
    session: AsyncSession, *, now: datetime, lease_seconds: float
) -> ForumJobRow | None:
    """Lease the oldest due job, counting the attempt. A write waits while an older write
    about the same object is unfinished (a reply is posted before its edit, an edit before
    its delete)."""
    earlier = aliased(ForumJobRow)
    blocked = (
        select(earlier.id)
        .where(
            earlier.object_ap_id == ForumJobRow.object_ap_id,
            earlier.id < ForumJobRow.id,
            earlier.state.in_(PENDING_JOBS),
        )
        .exists()
    )
    candidates = list(
        await session.scalars(
            select(ForumJobRow.id)
            .where(
                ForumJobRow.state.in_(PENDING_JOBS),
                ForumJobRow.next_try_at <= now,
                or_(ForumJobRow.locked_until.is_(None), ForumJobRow.locked_until < now),
                or_(ForumJobRow.object_ap_id.is_(None), ~blocked),
            )
            .order_by(ForumJobRow.id)
            .limit(5)
        )
    )
    lease = now + timedelta(seconds=lease_seconds)
    for job_id in candidates:
        result = await session.execute(
            update(ForumJobRow)
            .where(
                ForumJobRow.id == job_id,
                ForumJobRow.state.in_(PENDING_JOBS),
                or_(ForumJobRow.locked_until.is_(None), ForumJobRow.locked_until < now),
            )
            .values(locked_until=lease, updated_at=now, attempts=ForumJobRow.attempts + 1)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return await session.get(ForumJobRow, job_id, populate_existing=True)
    return None


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next pending job is due (a retry's ``next_try_at``)."""
    return await session.scalar(
        select(func.min(ForumJobRow.next_try_at)).where(ForumJobRow.state.in_(PENDING_JOBS))
    )


async def finish_job(
    session: AsyncSession,
    job_id: int,
    *,
    state: JobState,
    next_try_at: datetime | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": state,
        "locked_until": None,
        "last_error": error[:2000] if error else None,
        "updated_at": utcnow(),
    }
    if next_try_at is not None:
        values["next_try_at"] = next_try_at
    await session.execute(update(ForumJobRow).where(ForumJobRow.id == job_id).values(**values))


async def retry_now(session: AsyncSession, community_id: int) -> tuple[int, int]:
    """Make the community's pending jobs due now, and its failed ones pending again (for
    one more try each); returns (pending, failed) counts."""
    retried = await retry_jobs_now(
        session, ForumJobRow, ForumJobRow.community_id == community_id, utcnow()
    )
    if retried.total:
        await wakeups.announce(session, JOBS_CHANNEL)  # the server's job loop
    return retried.waiting, retried.failed


# Finished jobs go with copub's finished work (``copub.purgers`` entry point: actors.hooks)
FORUM_JOBS_PURGE = PurgeTarget(
    "discourse_jobs",
    ForumJobRow,
    ForumJobRow.id,
    finished_jobs(ForumJobRow.state, ForumJobRow.updated_at),
)


async def job_counts(session: AsyncSession, community_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(ForumJobRow.state, func.count())
        .where(ForumJobRow.community_id == community_id)
        .group_by(ForumJobRow.state)
    )
    return {state: int(n) for state, n in rows}


async def failed_jobs(
    session: AsyncSession, community_id: int, limit: int = 10
) -> list[ForumJobRow]:
    rows = await session.scalars(
        select(ForumJobRow)
        .where(
            ForumJobRow.community_id == community_id,
            ForumJobRow.state.in_((JobState.FAILED, JobState.RETRYING)),
        )
        .order_by(ForumJobRow.updated_at.desc())
        .limit(limit)
    )
    return list(rows)
