"""SQL of value creation: a stored item's claim, indicators, the value matrix's reads, and
the cached value collections of linked communities (rules: actors/values.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_links import LinkItemRow
from actors.store.models_values import ValueCacheRow, ValueIndicatorRow, ValueStoryRow
from actors.values import Indicator, ValueClaim


async def save_claim(session: AsyncSession, object_id: int, claim: ValueClaim | None) -> None:
    """The item's claim as given (None: it is no value-creation story, or no longer)."""
    row = await session.get(ValueStoryRow, object_id)
    if claim is None:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = ValueStoryRow(object_id=object_id)
        session.add(row)
    row.cycle, row.changed, row.for_whom = claim.cycle, claim.changed, claim.for_whom
    row.about = list(claim.about)


@dataclass(frozen=True)
class ValueStory:
    """A value-creation story as the matrix lists it."""

    url: str
    title: str
    text_html: str  # for a story without a title (a member's)
    claim: ValueClaim
    published: datetime
    community: str  # the actor id of the community it belongs to ("" : this one)


def _claim(row: ValueStoryRow) -> ValueClaim:
    about = tuple(a for a in row.about if isinstance(a, str)) if isinstance(row.about, list) else ()
    return ValueClaim(row.cycle, row.changed, row.for_whom, about)


# what a value story shows of its item, in the order ValueStory takes them
_STORY_COLUMNS = (ObjectRow.ap_id, ObjectRow.title, ObjectRow.content_html, ObjectRow.published)


async def own_stories(session: AsyncSession, community_id: int, *, limit: int) -> list[ValueStory]:
    """The community's value-creation stories (its own and its members'), newest first."""
    rows = await session.execute(
        select(*_STORY_COLUMNS, ValueStoryRow)
        .join(ValueStoryRow, ValueStoryRow.object_id == ObjectRow.id)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
            ObjectRow.kind != "linked",
        )
        .order_by(ObjectRow.published.desc())
        .limit(limit)
    )
    return [ValueStory(u, t or "", h, _claim(v), w, "") for u, t, h, w, v in rows]


async def linked_stories(
    session: AsyncSession, community_id: int, *, limit: int
) -> list[ValueStory]:
    """Value-creation stories that came over this community's links, newest first."""
    rows = await session.execute(
        select(*_STORY_COLUMNS, LinkItemRow.origin_group, ValueStoryRow)
        .join(ValueStoryRow, ValueStoryRow.object_id == ObjectRow.id)
        .join(LinkItemRow, LinkItemRow.object_id == ObjectRow.id)
        .where(
            LinkItemRow.community_id == community_id,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
        .order_by(ObjectRow.published.desc())
        .limit(limit)
    )
    return [ValueStory(u, t or "", h, _claim(v), w, g) for u, t, h, w, g, v in rows]


async def add_indicator(
    session: AsyncSession, community_id: int, indicator: Indicator, *, by: str
) -> ValueIndicatorRow:
    row = ValueIndicatorRow(
        community_id=community_id, cycle=indicator.cycle, text=indicator.text,
        number=indicator.number, on_date=indicator.on, created_by=by[:200],
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def indicators(
    session: AsyncSession, community_id: int, *, limit: int
) -> list[ValueIndicatorRow]:
    """The community's indicators, the latest date first."""
    rows = await session.scalars(
        select(ValueIndicatorRow)
        .where(ValueIndicatorRow.community_id == community_id)
        .order_by(ValueIndicatorRow.on_date.desc(), ValueIndicatorRow.id.desc())
        .limit(limit)
    )
    return list(rows)


async def remove_indicator(session: AsyncSession, community_id: int, indicator_id: int) -> bool:
    result = await session.execute(
        delete(ValueIndicatorRow).where(
            ValueIndicatorRow.community_id == community_id, ValueIndicatorRow.id == indicator_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def indicator_of(row: ValueIndicatorRow) -> Indicator:
    return Indicator(row.cycle, row.text, row.on_date, row.number)


async def cached(session: AsyncSession, actor_ids: Sequence[str]) -> dict[str, ValueCacheRow]:
    if not actor_ids:
        return {}
    rows = await session.scalars(select(ValueCacheRow).where(ValueCacheRow.actor_id.in_(actor_ids)))
    return {row.actor_id: row for row in rows}


async def save_cache(
    session: AsyncSession, actor_id: str, stories: list[dict[str, object]] | None,
    indicators_found: list[dict[str, object]] | None, error: str | None, now: datetime,
) -> None:  # fmt: skip
    """What a linked Group's value collection held (None: not read; the last good stays)."""
    row = await session.get(ValueCacheRow, actor_id)
    if row is None:
        row = ValueCacheRow(actor_id=actor_id, stories=[], indicators=[])
        session.add(row)
    if stories is not None and indicators_found is not None:
        row.stories, row.indicators = stories, indicators_found
    row.error = error
    row.fetched_at = now
