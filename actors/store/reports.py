"""Reports' SQL: the ``reports`` table, one row per ``Flag`` received or sent.

A queue is a community's (``community_id``) or the server's (``community_id`` null)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from actors.store.db import add_if_new
from actors.store.models_moderation import ReportDirection, ReportRow, ReportState


def _queue(community_id: int | None) -> ColumnElement[bool]:
    if community_id is None:
        return ReportRow.community_id.is_(None)
    return ReportRow.community_id == community_id


async def add_report(session: AsyncSession, row: ReportRow) -> bool:
    """Store a report; False when one with its activity id is kept already (the same Flag
    delivered twice, to two inboxes, or retried)."""
    return await add_if_new(session, row)


async def get_report(session: AsyncSession, report_id: int) -> ReportRow | None:
    return await session.get(ReportRow, report_id)


async def list_reports(
    session: AsyncSession,
    community_id: int | None,
    *,
    states: tuple[ReportState, ...] = (ReportState.OPEN,),
    direction: ReportDirection | None = None,
    limit: int,
    offset: int = 0,
) -> list[ReportRow]:
    """A queue's reports in ``states``, the oldest first (open ones wait their turn)."""
    query = select(ReportRow).where(_queue(community_id), ReportRow.state.in_(states))
    if direction is not None:
        query = query.where(ReportRow.direction == direction)
    query = query.order_by(ReportRow.created_at.asc(), ReportRow.id.asc())
    return list(await session.scalars(query.limit(limit).offset(offset)))


async def count_open(session: AsyncSession, community_id: int | None) -> int:
    """Open reports received in a queue (what waits for a coordinator)."""
    query = select(func.count(ReportRow.id)).where(
        _queue(community_id),
        ReportRow.state == ReportState.OPEN,
        ReportRow.direction == ReportDirection.IN,
    )
    return int(await session.scalar(query) or 0)


def mark_resolved(row: ReportRow, *, by: str, when: datetime) -> None:
    row.state = ReportState.RESOLVED
    row.resolved_at = when
    row.resolved_by = by[:200]
