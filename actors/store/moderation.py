"""Moderation's SQL: held posts, word and link filters, the moderation log, posts relayed
per actor (the rate limit and the ``members`` policy)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store import memo
from actors.store.db import add_if_new
from actors.store.models import ActivityRow, ObjectRow
from actors.store.models_moderation import (
    FilterKind,
    FilterRow,
    HeldPostRow,
    HoldState,
    ModAction,
    ModlogRow,
)

# -- the moderation log --------------------------------------------------------------------


async def add_modlog(
    session: AsyncSession,
    community_id: int,
    action: ModAction,
    target: str,
    *,
    reason: str,
    role: str,
    moderator: str,
) -> ModlogRow:
    row = ModlogRow(
        community_id=community_id,
        action=action,
        target=target,
        reason=reason,
        role=role,
        moderator=moderator,
    )
    session.add(row)
    return row


async def add_modlog_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.add_all(ModlogRow(**values) for values in rows)


async def list_modlog(
    session: AsyncSession, community_id: int, *, before: int | None, limit: int
) -> list[ModlogRow]:
    """The newest lines first; ``before``: a line id, for the next page."""
    query = select(ModlogRow).where(ModlogRow.community_id == community_id)
    if before is not None:
        query = query.where(ModlogRow.id < before)
    return list(await session.scalars(query.order_by(ModlogRow.id.desc()).limit(limit)))


# -- posts relayed -------------------------------------------------------------------------


async def relayed_since(
    session: AsyncSession, community_id: int, actor_id: str, since: datetime
) -> int:
    """How many of ``actor_id``'s posts the community relayed since ``since``, by when it
    relayed them (a post's own ``published`` is the sender's to choose), removed ones
    included: a removal gives no room back under a rate limit."""
    query = (
        select(func.count(func.distinct(ActivityRow.object_ap_id)))
        .join(ObjectRow, ObjectRow.ap_id == ActivityRow.object_ap_id)
        .where(
            ActivityRow.community_id == community_id,
            ActivityRow.ap_type == "Announce",
            ActivityRow.created_at >= since,
            ObjectRow.community_id == community_id,
            ObjectRow.attributed_to == actor_id,
        )
    )
    return int(await session.scalar(query) or 0)


async def has_relayed_post(session: AsyncSession, community_id: int, actor_id: str) -> bool:
    """Whether a post of ``actor_id`` was relayed by the community and not removed."""
    if memo.enabled(session):  # a batch of inbox items: for its actors at once

        async def read(actors: frozenset[str]) -> dict[str, bool]:
            rows = await session.scalars(
                select(ObjectRow.attributed_to)
                .where(
                    ObjectRow.community_id == community_id,
                    ObjectRow.attributed_to.in_(actors),
                    ObjectRow.local.is_(False),
                    ObjectRow.removed_at.is_(None),
                )
                .distinct()
            )
            return dict.fromkeys(rows, True)

        return await memo.remembered_among(session, "relayed", community_id, actor_id, read, False)
    hit = await session.scalar(
        select(ObjectRow.id)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.attributed_to == actor_id,
            ObjectRow.local.is_(False),
            ObjectRow.removed_at.is_(None),
        )
        .limit(1)
    )
    return hit is not None


# -- held posts ----------------------------------------------------------------------------


async def get_hold(
    session: AsyncSession, community_id: int, object_ap_id: str
) -> HeldPostRow | None:
    if memo.enabled(session):  # a batch of inbox items: for the objects it names at once

        async def read(ap_ids: frozenset[str]) -> dict[str, HeldPostRow | None]:
            rows = await session.scalars(
                select(HeldPostRow).where(
                    HeldPostRow.community_id == community_id,
                    HeldPostRow.object_ap_id.in_(ap_ids),
                )
            )
            return {row.object_ap_id: row for row in rows}

        return await memo.remembered_among(
            session, "hold", community_id, object_ap_id, read, None, "objects"
        )
    return await session.scalar(
        select(HeldPostRow).where(
            HeldPostRow.community_id == community_id, HeldPostRow.object_ap_id == object_ap_id
        )
    )


async def get_hold_by_id(
    session: AsyncSession, community_id: int, hold_id: int
) -> HeldPostRow | None:
    row = await session.get(HeldPostRow, hold_id)
    return row if row is not None and row.community_id == community_id else None


async def add_hold(session: AsyncSession, row: HeldPostRow) -> bool:
    """Store a held post; False if the community holds it already (sent twice)."""
    return await add_if_new(session, row)


async def list_holds(
    session: AsyncSession, community_id: int, *, state: HoldState, limit: int, offset: int = 0
) -> list[HeldPostRow]:
    """Held posts, the oldest first (a queue); decided ones, the newest first."""
    order = HeldPostRow.id.asc() if state == HoldState.HELD else HeldPostRow.id.desc()
    return list(
        await session.scalars(
            select(HeldPostRow)
            .where(HeldPostRow.community_id == community_id, HeldPostRow.state == state)
            .order_by(order)
            .limit(limit)
            .offset(offset)
        )
    )


async def count_holds(session: AsyncSession, community_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(HeldPostRow.id)).where(
                HeldPostRow.community_id == community_id, HeldPostRow.state == HoldState.HELD
            )
        )
        or 0
    )


async def reject_held(
    session: AsyncSession, community_id: int, *, by: str, when: datetime
) -> list[HeldPostRow]:
    """Reject every post held in the community at once; returns them."""
    rows = await list_holds(session, community_id, state=HoldState.HELD, limit=1_000_000)
    if rows:
        await session.execute(
            update(HeldPostRow)
            .where(HeldPostRow.id.in_([r.id for r in rows]))
            .values(state=HoldState.REJECTED, decided_at=when, decided_by=by)
            .execution_options(synchronize_session=False)
        )
    return rows


async def end_holds_of(
    session: AsyncSession, actor_id: str, object_ap_id: str, *, when: datetime
) -> int:
    """Its author withdrew a held post: rejected wherever it waits."""
    result = await session.execute(
        update(HeldPostRow)
        .where(
            HeldPostRow.object_ap_id == object_ap_id,
            HeldPostRow.actor_id == actor_id,
            HeldPostRow.state == HoldState.HELD,
        )
        .values(state=HoldState.REJECTED, decided_at=when, decided_by="author")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- filters -------------------------------------------------------------------------------


async def list_filters(session: AsyncSession, community_id: int | None) -> list[FilterRow]:
    """The community's filters and the server-wide ones (those alone for None)."""
    scope: ColumnElement[bool] = FilterRow.community_id.is_(None)
    if community_id is not None:
        scope = or_(scope, FilterRow.community_id == community_id)

    async def read() -> list[FilterRow]:
        return list(await session.scalars(select(FilterRow).where(scope).order_by(FilterRow.id)))

    return list(await memo.remembered(session, ("filters", community_id), read))


async def add_filter(
    session: AsyncSession, community_id: int | None, kind: FilterKind, value: str
) -> bool:
    return await add_if_new(session, FilterRow(community_id=community_id, kind=kind, value=value))


async def remove_filter(
    session: AsyncSession, community_id: int | None, kind: FilterKind, value: str
) -> bool:
    scope = (
        FilterRow.community_id.is_(None)
        if community_id is None
        else FilterRow.community_id == community_id
    )
    row = await session.scalar(
        select(FilterRow).where(scope, FilterRow.kind == kind, FilterRow.value == value)
    )
    if row is None:
        return False
    await session.delete(row)
    return True
