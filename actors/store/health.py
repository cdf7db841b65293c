"""What operators' probes ask the database: is the schema current, how deep are the queues.

Both are cheap: one row of ``alembic_version``; two counts over indexed state columns."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text

from actors.store import jobs
from actors.store.db import AsyncSession
from actors.store.models import DeliveryRow, InboxItemRow
from actors.store.schema import head_revisions, schema_problem
from actors.store.states import PENDING_JOBS, InboxState, JobState

__all__ = ["QueueDepths", "head_revisions", "ping", "queue_depths", "schema_problem"]


async def ping(session: AsyncSession) -> None:
    """One round trip; raises when the database cannot be reached."""
    await session.execute(text("SELECT 1"))


@dataclass(frozen=True, slots=True)
class QueueDepths:
    inbox_pending: int  # stored activities not yet applied (retries included)
    deliveries: dict[JobState, int]  # queued and retrying deliveries


async def queue_depths(session: AsyncSession) -> QueueDepths:
    inbox = await session.scalar(
        select(func.count())
        .select_from(InboxItemRow)
        .where(InboxItemRow.state == InboxState.PENDING)
    )
    rows = await session.execute(
        select(DeliveryRow.state, func.count())
        .where(DeliveryRow.state.in_(PENDING_JOBS))
        .group_by(DeliveryRow.state)
    )
    deliveries = dict.fromkeys(PENDING_JOBS, 0)
    deliveries.update({JobState(state): int(n) for state, n in rows})
    deliveries[JobState.QUEUED] += int(await session.scalar(select(jobs.unqueued())) or 0)
    return QueueDepths(int(inbox or 0), deliveries)
