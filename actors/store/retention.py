"""Retention's SQL: which rows are old enough to go, counted, or deleted a batch at a time.

A :class:`PurgeTarget` names a table (for reports), its primary key and the condition of
its old rows given the :class:`Cutoffs`; copub's own tables are :data:`TARGETS`. A plugin
declares a target for each of its tables (``actors.hooks.Purger``).

:meth:`PurgeTarget.purge_batch` is one statement that deletes at most ``limit`` rows,
chosen by primary key in a subquery (``DELETE ... WHERE pk IN (SELECT pk ... LIMIT n)``,
which SQLite and PostgreSQL both take); the caller commits after each batch, so no
transaction holds its locks (on SQLite: the one write lock) for long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from actors.store.models import Base, DeliveryRow, InboxItemRow
from actors.store.models_links import NetworkCacheRow
from actors.store.models_values import ValueCacheRow
from actors.store.states import InboxState, JobState


@dataclass(frozen=True)
class Cutoffs:
    """Rows finished before ``done_before`` go; failed ones before ``failed_before``."""

    done_before: datetime
    failed_before: datetime

    @classmethod
    def at(cls, now: datetime, *, done_days: float, failed_days: float) -> Cutoffs:
        return cls(now - timedelta(days=done_days), now - timedelta(days=failed_days))


OldRows = Callable[[Cutoffs], ColumnElement[bool]]


def finished_rows(
    state: QueryableAttribute[Any], at: QueryableAttribute[datetime], done: Any, failed: Any
) -> OldRows:
    """The old rows of a table whose ``state`` ends ``done`` or ``failed``, aged by ``at``
    (the time the row last changed: when it finished)."""

    def old(cutoffs: Cutoffs) -> ColumnElement[bool]:
        return or_(
            and_(state == done, at < cutoffs.done_before),
            and_(state == failed, at < cutoffs.failed_before),
        )

    return old


def finished_jobs(state: QueryableAttribute[Any], at: QueryableAttribute[datetime]) -> OldRows:
    """:func:`finished_rows` of a table of retried jobs (``JobState``: done and failed)."""
    return finished_rows(state, at, JobState.DONE, JobState.FAILED)


@dataclass(frozen=True)
class PurgeTarget:
    """One table's old rows: ``name`` (what reports show), the mapped class, its primary
    key and :data:`OldRows`. Satisfies ``actors.hooks.Purger``."""

    table: str
    model: type[Base]
    key: QueryableAttribute[Any]
    old: OldRows

    @property
    def name(self) -> str:
        return self.table

    async def count_old(self, session: AsyncSession, cutoffs: Cutoffs) -> int:
        count = select(func.count()).select_from(self.model).where(self.old(cutoffs))
        return int(await session.scalar(count) or 0)

    async def purge_batch(self, session: AsyncSession, cutoffs: Cutoffs, limit: int) -> int:
        """Delete at most ``limit`` old rows; how many went."""
        batch = select(self.key).where(self.old(cutoffs)).limit(limit).scalar_subquery()
        result = await session.execute(delete(self.model).where(self.key.in_(batch)))
        return cast(CursorResult[Any], result).rowcount


def _cache_old(
    row: type[NetworkCacheRow] | type[ValueCacheRow],
) -> Callable[[Cutoffs], ColumnElement[bool]]:
    """An entry not refreshed for ``done_before`` (one whose last fetch failed: for
    ``failed_before``): its Group is no longer linked or no longer looked at."""

    def old(cutoffs: Cutoffs) -> ColumnElement[bool]:
        return or_(
            and_(row.error.is_(None), row.fetched_at < cutoffs.done_before),
            and_(row.error.is_not(None), row.fetched_at < cutoffs.failed_before),
        )

    return old


TARGETS: tuple[PurgeTarget, ...] = (
    PurgeTarget(
        "deliveries",
        DeliveryRow,
        DeliveryRow.id,
        finished_jobs(DeliveryRow.state, DeliveryRow.updated_at),
    ),
    # an inbox item records no time of processing: its age is counted from its arrival
    PurgeTarget(
        "inbox_items",
        InboxItemRow,
        InboxItemRow.id,
        finished_rows(
            InboxItemRow.state, InboxItemRow.received_at, InboxState.DONE, InboxState.FAILED
        ),
    ),
    PurgeTarget(
        "network_cache", NetworkCacheRow, NetworkCacheRow.actor_id, _cache_old(NetworkCacheRow)
    ),
    # linked Groups' value collections, fetched with their following
    PurgeTarget("value_cache", ValueCacheRow, ValueCacheRow.actor_id, _cache_old(ValueCacheRow)),
)
