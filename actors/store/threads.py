"""Queries for conversations: a thread's posts, which posts are held, recent threads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models import ObjectRow

_CHUNK = 500  # ids per IN (...) list


async def held_ids(session: AsyncSession, ap_ids: Sequence[str]) -> set[str]:
    """Those of ``ap_ids`` stored here (deleted and removed ones too)."""
    found: set[str] = set()
    for start in range(0, len(ap_ids), _CHUNK):
        chunk = list(ap_ids[start : start + _CHUNK])
        found.update(
            await session.scalars(select(ObjectRow.ap_id).where(ObjectRow.ap_id.in_(chunk)))
        )
    return found


def _in_thread(root: str) -> ColumnElement[bool]:
    # a direct reply stored without its thread's root (rows older than thread_root) counts
    return or_(
        ObjectRow.ap_id == root, ObjectRow.thread_root == root, ObjectRow.in_reply_to == root
    )


async def thread_posts(
    session: AsyncSession, root: str, *, offset: int = 0, limit: int = 100
) -> list[ObjectRow]:
    """The thread under ``root`` (the root first), oldest first, without deleted posts."""
    rows = await session.scalars(
        select(ObjectRow)
        .where(_in_thread(root), ObjectRow.deleted_at.is_(None), ObjectRow.members_only.is_(False))
        .order_by(ObjectRow.ap_id != root, ObjectRow.published, ObjectRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def count_thread(session: AsyncSession, root: str) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ObjectRow)
        .where(_in_thread(root), ObjectRow.deleted_at.is_(None), ObjectRow.members_only.is_(False))
    )
    return int(total or 0)


async def recent_roots(
    session: AsyncSession, since: datetime, *, limit: int
) -> list[tuple[int, str]]:
    """``(community id, root)`` of the threads with a post since ``since``, the liveliest
    (latest post) first, at most ``limit``."""
    root = func.coalesce(ObjectRow.thread_root, ObjectRow.ap_id)
    rows = await session.execute(
        select(ObjectRow.community_id, root)
        .where(
            ObjectRow.published >= since,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
            ObjectRow.kind != "linked",  # a linked community's threads are its own
        )
        .group_by(ObjectRow.community_id, root)
        .order_by(func.max(ObjectRow.published).desc())
        .limit(limit)
    )
    return [(int(c), str(r)) for c, r in rows]
