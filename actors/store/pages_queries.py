"""Reads behind the pages and feeds: recent items, events with their details, revisions.

Lists select only what a page shows (never ``ap_json`` or the Markdown source of a list),
and every list has a limit: the community page costs the same with 10 or 10,000 items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from actors.content import ItemKind
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, ParticipantRow, RevisionRow
from actors.store.states import ParticipantState

EventPair = tuple[ObjectRow, EventDetailRow]

_LIST_OPTIONS = (defer(ObjectRow.ap_json), defer(ObjectRow.source_markdown))


def _live(community_id: int, kinds: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    return (
        ObjectRow.community_id == community_id,
        ObjectRow.kind.in_(kinds),
        ObjectRow.deleted_at.is_(None),
        ObjectRow.members_only.is_(False),
    )


@dataclass(frozen=True)
class ItemSummary:
    """What a list shows of an item (a story, a practice, a member's post)."""

    ap_id: str
    kind: str
    title: str | None
    summary: str | None
    status: str | None
    content_html: str | None  # only when asked for
    attributed_to: str
    published: datetime
    updated: datetime | None


async def recent_by_kind(
    session: AsyncSession, community_id: int, shown: Mapping[ItemKind, tuple[int, bool]]
) -> dict[ItemKind, list[ItemSummary]]:
    """For each kind, its newest items: ``{kind: (how many, with their content?)}``; one query."""
    parts = []
    for kind, (limit, with_content) in shown.items():
        content = ObjectRow.content_html if with_content else null().label("content_html")
        newest = (
            select(
                ObjectRow.ap_id, ObjectRow.kind, ObjectRow.title, ObjectRow.summary,
                ObjectRow.status, content, ObjectRow.attributed_to, ObjectRow.published,
                ObjectRow.updated,
            )
            .where(*_live(community_id, (kind,)))
            .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
            .limit(limit)
            .subquery()
        )  # fmt: skip
        parts.append(select(newest))
    found: dict[ItemKind, list[ItemSummary]] = {kind: [] for kind in shown}
    if parts:
        rows = await session.execute(union_all(*parts))
        for row in rows:
            found[row.kind].append(ItemSummary(**row._mapping))
    for items in found.values():
        items.sort(key=lambda item: item.published, reverse=True)
    return found


async def feed_items(
    session: AsyncSession, community_id: int, kinds: Sequence[str], *, limit: int
) -> list[ObjectRow]:
    """The community's own items for its Atom and RSS feeds, newest first."""
    rows = await session.scalars(
        select(ObjectRow)
        .where(*_live(community_id, kinds), ObjectRow.local.is_(True))
        .options(*_LIST_OPTIONS)
        .order_by(ObjectRow.published.desc(), ObjectRow.id.desc())
        .limit(limit)
    )
    return list(rows)


def _events() -> Any:
    """Events with their details (untyped: SQLAlchemy 2.0 and 2.1 spell the type apart)."""
    return select(ObjectRow, EventDetailRow).join(
        EventDetailRow, EventDetailRow.object_id == ObjectRow.id
    )


@dataclass(frozen=True)
class EventFacts:
    """What a list or a page shows of an event: its title, times, rule and place."""

    object_id: int
    ap_id: str
    title: str | None
    start_time: datetime
    end_time: datetime | None
    timezone: str
    rrule: str | None
    location_name: str | None
    online_url: str | None
    capacity: int | None


def event_facts(item: ObjectRow, details: EventDetailRow) -> EventFacts:
    return EventFacts(
        item.id, item.ap_id, item.title, details.start_time, details.end_time, details.timezone,
        details.rrule, details.location_name, details.online_url, details.capacity,
    )  # fmt: skip


_FACTS = (
    ObjectRow.id.label("object_id"), ObjectRow.ap_id, ObjectRow.title, EventDetailRow.start_time,
    EventDetailRow.end_time, EventDetailRow.timezone, EventDetailRow.rrule,
    EventDetailRow.location_name, EventDetailRow.online_url, EventDetailRow.capacity,
)  # fmt: skip


async def upcoming_event_candidates(
    session: AsyncSession, community_id: int, now: datetime, *, limit: int
) -> list[EventFacts]:
    """One-off events not over yet (the ``limit`` soonest) and recurring events (whose next
    date the caller works out; at most ``10 * limit``, the latest started first)."""
    one_off = select(*_FACTS).where(
        *_live(community_id, (ItemKind.EVENT,)),
        EventDetailRow.rrule.is_(None),
        func.coalesce(EventDetailRow.end_time, EventDetailRow.start_time) >= now,
    )
    recurring = select(*_FACTS).where(
        *_live(community_id, (ItemKind.EVENT,)), EventDetailRow.rrule.is_not(None)
    )
    found: list[EventFacts] = []
    for query in (
        one_off.order_by(EventDetailRow.start_time, ObjectRow.id).limit(limit),
        recurring.order_by(EventDetailRow.start_time.desc(), ObjectRow.id).limit(10 * limit),
    ):
        rows = await session.execute(
            query.join_from(ObjectRow, EventDetailRow, EventDetailRow.object_id == ObjectRow.id)
        )
        found.extend(EventFacts(**row._mapping) for row in rows)
    return found


async def calendar_events(
    session: AsyncSession, community_id: int, since: datetime, *, limit: int
) -> list[EventPair]:
    """Events for the calendar feed: recurring ones and those ending after ``since``."""
    rows = await session.execute(
        _events()
        .where(*_live(community_id, (ItemKind.EVENT,)))
        .where(
            or_(
                EventDetailRow.rrule.is_not(None),
                func.coalesce(EventDetailRow.end_time, EventDetailRow.start_time) >= since,
            )
        )
        .order_by(EventDetailRow.start_time.desc(), ObjectRow.id)
        .limit(limit)
    )
    return [(o, d) for o, d in rows]


async def event_details(session: AsyncSession, object_id: int) -> EventDetailRow | None:
    return await session.get(EventDetailRow, object_id)


async def participants(
    session: AsyncSession, object_id: int, *, limit: int
) -> tuple[list[str], int]:
    """Who joined the event (first ``limit``, in order of joining) and how many did."""
    where = (ParticipantRow.object_id == object_id, ParticipantRow.state == ParticipantState.JOINED)
    total = await session.scalar(select(func.count()).select_from(ParticipantRow).where(*where))
    actors = await session.scalars(
        select(ParticipantRow.actor_id).where(*where).order_by(ParticipantRow.id).limit(limit)
    )
    return list(actors), int(total or 0)


async def revisions(session: AsyncSession, object_id: int) -> list[RevisionRow]:
    """Every saved version of an item, oldest first."""
    rows = await session.scalars(
        select(RevisionRow)
        .where(RevisionRow.object_id == object_id)
        .order_by(RevisionRow.number, RevisionRow.id)
    )
    return list(rows)
