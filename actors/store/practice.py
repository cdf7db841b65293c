"""Queries for the practice of a community: items by kind, revisions, events, participants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.content import PUBLISHED_KINDS, ItemKind
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, ParticipantRow, RevisionRow
from actors.store.states import ParticipantState

# -- items by kind ------------------------------------------------------------------------


def _live(community_id: int, kinds: Sequence[str]) -> list[ColumnElement[bool]]:
    return [
        ObjectRow.community_id == community_id,
        ObjectRow.kind.in_(kinds),
        ObjectRow.deleted_at.is_(None),
        ObjectRow.members_only.is_(False),
    ]


async def count_items(session: AsyncSession, community_id: int, kinds: Sequence[str]) -> int:
    total = await session.scalar(
        select(func.count()).select_from(ObjectRow).where(*_live(community_id, kinds))
    )
    return int(total or 0)


async def list_items(
    session: AsyncSession,
    community_id: int,
    kinds: Sequence[str],
    *,
    offset: int = 0,
    limit: int = 20,
) -> list[ObjectRow]:
    """Live items of these kinds, newest first (stories, practices)."""
    rows = await session.scalars(
        select(ObjectRow)
        .where(*_live(community_id, kinds))
        .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def list_events(
    session: AsyncSession, community_id: int, *, offset: int = 0, limit: int = 20
) -> list[tuple[ObjectRow, EventDetailRow | None]]:
    """Live events, latest start first (events filed without a time: by publication)."""
    start = func.coalesce(EventDetailRow.start_time, ObjectRow.published)
    rows = await session.execute(
        select(ObjectRow, EventDetailRow)
        .outerjoin(EventDetailRow, EventDetailRow.object_id == ObjectRow.id)
        .where(*_live(community_id, (ItemKind.EVENT,)))
        .order_by(start.desc(), ObjectRow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(obj, detail) for obj, detail in rows]


async def tagged_items(
    session: AsyncSession, community_id: int, tag: str, *, limit: int = 200
) -> list[ObjectRow]:
    """Local items carrying ``#tag`` (tags live in the stored JSON), newest first."""
    candidates = await session.scalars(
        select(ObjectRow)
        .where(*_live(community_id, PUBLISHED_KINDS), ObjectRow.local.is_(True))
        .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
        .limit(2_000)
    )
    wanted = f"#{tag}".lower()
    found = [
        row
        for row in candidates
        if any(
            isinstance(t, dict) and str(t.get("name", "")).lower() == wanted
            for t in (row.ap_json.get("tag") or [])
        )
    ]
    return found[:limit]


# -- revisions ----------------------------------------------------------------------------


async def add_revision(
    session: AsyncSession,
    row: ObjectRow,
    *,
    editor: str,
    change_note: str | None,
    when: datetime,
) -> RevisionRow:
    """Save the current version of ``row`` as its next revision."""
    last = await session.scalar(
        select(func.max(RevisionRow.number)).where(RevisionRow.object_id == row.id)
    )
    revision = RevisionRow(
        object_id=row.id,
        number=int(last or 0) + 1,
        editor=editor,
        title=row.title,
        summary=row.summary,
        source_markdown=row.source_markdown,
        status=row.status,
        change_note=change_note,
        created_at=when,
    )
    session.add(revision)
    await session.flush()
    return revision


# -- event details ------------------------------------------------------------------------


async def get_event_detail(session: AsyncSession, object_id: int) -> EventDetailRow | None:
    return await session.get(EventDetailRow, object_id)


async def lock_event_detail(session: AsyncSession, object_id: int) -> EventDetailRow | None:
    """The detail row, locked until commit on PostgreSQL (SQLite has one writer anyway),
    so two Joins cannot both take the last place."""
    return await session.scalar(
        select(EventDetailRow)
        .where(EventDetailRow.object_id == object_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def save_event_detail(session: AsyncSession, detail: EventDetailRow) -> EventDetailRow:
    merged = await session.merge(detail)
    await session.flush()
    return merged


# -- participants -------------------------------------------------------------------------


async def get_participant(
    session: AsyncSession, object_id: int, actor_id: str
) -> ParticipantRow | None:
    return await session.scalar(
        select(ParticipantRow).where(
            ParticipantRow.object_id == object_id, ParticipantRow.actor_id == actor_id
        )
    )


async def add_participant(
    session: AsyncSession, object_id: int, actor_id: str, join_activity_id: str
) -> ParticipantRow:
    row = ParticipantRow(
        object_id=object_id,
        actor_id=actor_id,
        join_activity_id=join_activity_id,
        state=ParticipantState.JOINED,
    )
    session.add(row)
    await session.flush()
    return row


async def remove_participant(
    session: AsyncSession,
    object_id: int | None,
    actor_id: str,
    *,
    join_activity_id: str | None = None,
) -> list[int]:
    """Remove the actor from an event (or, by the Join's id, from whichever event it
    joined); returns the ids of the events it left."""
    query = select(ParticipantRow).where(ParticipantRow.actor_id == actor_id)
    if object_id is not None:
        query = query.where(ParticipantRow.object_id == object_id)
    if join_activity_id is not None:
        query = query.where(ParticipantRow.join_activity_id == join_activity_id)
    rows = list(await session.scalars(query))
    if rows:
        ids = [r.id for r in rows]
        await session.execute(delete(ParticipantRow).where(ParticipantRow.id.in_(ids)))
    return [r.object_id for r in rows]


async def joined_with(session: AsyncSession, actor_id: str, join_activity_id: str) -> bool:
    hit = await session.scalar(
        select(ParticipantRow.id).where(
            ParticipantRow.actor_id == actor_id,
            ParticipantRow.join_activity_id == join_activity_id,
        )
    )
    return hit is not None


async def count_participants(session: AsyncSession, object_id: int) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ParticipantRow)
        .where(
            ParticipantRow.object_id == object_id, ParticipantRow.state == ParticipantState.JOINED
        )
    )
    return int(total or 0)


async def list_participants(
    session: AsyncSession, object_id: int, *, offset: int = 0, limit: int = 100
) -> list[ParticipantRow]:
    """Who takes part, in the order they joined."""
    rows = await session.scalars(
        select(ParticipantRow)
        .where(
            ParticipantRow.object_id == object_id, ParticipantRow.state == ParticipantState.JOINED
        )
        .order_by(ParticipantRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)
