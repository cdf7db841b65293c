"""Reads behind the console's dashboard and item list: aggregates, each bounded.

The dashboard costs the same with ten followers or ten thousand: counts come from one
grouped query, lists are limited, and nothing selects ``ap_json`` or a Markdown source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from actors.content import PUBLISHED_KINDS
from actors.store.jobs import FANOUTS, UNDONE, unqueued
from actors.store.models import DeliveryRow, FollowerRow, ObjectRow, RemoteActorRow
from actors.store.models_links import LinkRow
from actors.store.models_practice import ParticipantRow
from actors.store.states import JobState, ParticipantState


@dataclass(frozen=True)
class Counts:
    """How many followers in each state, live items of each kind, undone deliveries in
    each state (a state or kind with none is absent)."""

    followers: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)


async def counts(session: AsyncSession, community_id: int) -> Counts:
    """The community's counts, in one query."""

    def grouped(part: str, column: QueryableAttribute[Any], *where: ColumnElement[bool]) -> Any:
        """(part, key, count) rows (untyped: SQLAlchemy 2.0 and 2.1 spell the type apart)"""
        key = type_coerce(column, String())
        return (
            select(literal(part).label("part"), key.label("key"), func.count().label("n"))
            .where(*where)
            .group_by(key)
        )

    query = union_all(
        grouped("followers", FollowerRow.state, FollowerRow.community_id == community_id),
        grouped("items", ObjectRow.kind, ObjectRow.community_id == community_id,
                ObjectRow.deleted_at.is_(None)),
        grouped("deliveries", DeliveryRow.state, DeliveryRow.community_id == community_id,
                DeliveryRow.state.in_(UNDONE)),
        select(literal("deliveries").label("part"), literal(JobState.QUEUED.value).label("key"),
               unqueued().label("n")).where(FANOUTS.c.community_id == community_id),
    )  # fmt: skip
    found = Counts()
    for part, key, n in await session.execute(query):
        part_counts = getattr(found, part)
        if n:  # (a fan-out's unqueued deliveries: a second "queued" count, maybe 0)
            part_counts[str(key)] = part_counts.get(str(key), 0) + int(n)
    return found


async def participant_counts(session: AsyncSession, object_ids: Sequence[int]) -> dict[int, int]:
    """How many take part in each of these events (absent: nobody)."""
    if not object_ids:
        return {}
    rows = await session.execute(
        select(ParticipantRow.object_id, func.count())
        .where(
            ParticipantRow.object_id.in_(object_ids),
            ParticipantRow.state == ParticipantState.JOINED,
        )
        .group_by(ParticipantRow.object_id)
    )
    return {object_id: int(n) for object_id, n in rows}


@dataclass(frozen=True)
class LinkSummary:
    """An outgoing link: the Group, its name if fetched, the link's state and policy."""

    actor_id: str
    name: str | None
    handle: str | None
    state: str
    policy: str


async def links(session: AsyncSession, community_id: int, *, limit: int) -> list[LinkSummary]:
    rows = await session.execute(
        select(
            LinkRow.remote_actor_id, RemoteActorRow.name, RemoteActorRow.handle,
            type_coerce(LinkRow.state, String()), LinkRow.policy,
        )
        .outerjoin(RemoteActorRow, RemoteActorRow.ap_id == LinkRow.remote_actor_id)
        .where(LinkRow.community_id == community_id)
        .order_by(LinkRow.id)
        .limit(limit)
    )  # fmt: skip
    return [LinkSummary(*row) for row in rows]


@dataclass(frozen=True)
class ItemLine:
    """A published item as the console lists it."""

    object_id: int
    ap_id: str
    kind: str
    title: str | None
    published: datetime
    updated: datetime | None


def _local(community_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        ObjectRow.community_id == community_id,
        ObjectRow.kind.in_(PUBLISHED_KINDS),
        ObjectRow.local.is_(True),
        ObjectRow.deleted_at.is_(None),
    )


async def local_items(
    session: AsyncSession, community_id: int, *, offset: int, limit: int
) -> tuple[list[ItemLine], int]:
    """The community's own stories, practices and events, newest first, and how many."""
    total = await session.scalar(
        select(func.count()).select_from(ObjectRow).where(*_local(community_id))
    )
    rows = await session.execute(
        select(
            ObjectRow.id, ObjectRow.ap_id, ObjectRow.kind, ObjectRow.title, ObjectRow.published,
            ObjectRow.updated,
        )
        .where(*_local(community_id))
        .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
        .offset(offset)
        .limit(limit)
    )  # fmt: skip
    return [ItemLine(*row) for row in rows], int(total or 0)
