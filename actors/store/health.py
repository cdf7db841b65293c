"""What operators' probes ask the database: is the schema current, how deep are the queues.

Both are cheap: one row of ``alembic_version``; two counts over indexed state columns."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from actors.store.db import AsyncSession, alembic_config
from actors.store.models import DeliveryRow, InboxItemRow
from actors.store.states import PENDING_JOBS, InboxState, JobState


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions this code's migrations end at (read from the scripts once a process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def schema_problem(session: AsyncSession) -> str | None:
    """None when the database's schema is at this code's head, else what is wrong (the
    database is behind or ahead, or was never migrated). Raises when the database cannot
    be reached."""
    heads = head_revisions()
    migrated = await session.run_sync(
        lambda sync: inspect(sync.connection()).has_table("alembic_version")
    )
    if not migrated:
        return "the database has no schema yet (run copub migrate)"
    rows = await session.execute(text("SELECT version_num FROM alembic_version"))
    current = frozenset(str(row[0]) for row in rows)
    if current == heads:
        return None
    have = ", ".join(sorted(current)) or "none"
    want = ", ".join(sorted(heads))
    return f"the schema is at revision {have}; this copub needs {want} (run copub migrate)"


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
    return QueueDepths(int(inbox or 0), deliveries)
