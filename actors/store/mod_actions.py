"""The SQL of removals, locks, bans and remote moderators: a removed item's activities back
in the outbox, the moderation activity an Undo takes back, a banned actor's visible posts,
the items a linked Group sent us, the posts removed, and the moderators of remote Groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models import ActivityRow, BlockRow, ObjectRow
from actors.store.models_links import LinkItemRow
from actors.store.models_moderation import RemoteModeratorRow

RECENT = 200  # activities about one object looked through for the one an Undo takes back
WRAPPERS = ("Announce", "Undo")


def tells_of_deletion(ap_json: dict[str, Any]) -> bool:
    """Whether an activity is a Delete, or an Announce or Undo of one (its Undo included)."""
    node: object = ap_json
    for _ in range(3):
        if not isinstance(node, dict):
            return False
        if node.get("type") == "Delete":
            return True
        if node.get("type") not in WRAPPERS:
            return False
        node = node.get("object")
    return False


async def republish_activities(session: AsyncSession, object_ap_id: str) -> int:
    """A restored item's activities back in the outbox and at their URLs: all those
    withdrawn with it (its Create, announces, edits, likes, lock) but the deletions sent
    about it and their undos. Returns how many."""
    rows = await session.execute(
        select(ActivityRow.id, ActivityRow.ap_json).where(
            ActivityRow.object_ap_id == object_ap_id, ActivityRow.public.is_(False)
        )
    )
    ids = [id_ for id_, ap_json in rows if not tells_of_deletion(ap_json)]
    if ids:
        await session.execute(
            update(ActivityRow)
            .where(ActivityRow.id.in_(ids))
            .values(public=True)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


async def latest_sent(
    session: AsyncSession, community_id: int, object_ap_id: str, verb: str, actor: str
) -> dict[str, Any] | None:
    """The latest ``verb`` activity by ``actor`` (the moderation actor) about ``object_ap_id`` that
    the community sent, alone or inside its Announce: what an Undo embeds."""
    rows = await session.scalars(
        select(ActivityRow.ap_json)
        .where(
            ActivityRow.community_id == community_id,
            ActivityRow.object_ap_id == object_ap_id,
            or_(ActivityRow.ap_type == verb, ActivityRow.ap_type == "Announce"),
        )
        .order_by(ActivityRow.id.desc())
        .limit(RECENT)
    )
    for ap_json in rows:
        inner = ap_json.get("object") if ap_json.get("type") == "Announce" else ap_json
        if isinstance(inner, dict) and inner.get("type") == verb and inner.get("actor") == actor:
            return {k: v for k, v in inner.items() if k != "@context"}
    return None


async def visible_posts_by(
    session: AsyncSession, community_id: int, actor_id: str
) -> list[ObjectRow]:
    """``actor_id``'s posts and replies the community holds and shows, oldest first."""
    rows = await session.scalars(
        select(ObjectRow)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.attributed_to == actor_id,
            ObjectRow.local.is_(False),
            ObjectRow.deleted_at.is_(None),
        )
        .order_by(ObjectRow.id)
    )
    return list(rows)


async def removed_posts(
    session: AsyncSession, community_id: int, limit: int = 50
) -> list[ObjectRow]:
    """The posts a coordinator removed from the community (those that came over a link
    included), the latest removal first: what the console offers to restore."""
    linked = select(LinkItemRow.object_id).where(LinkItemRow.community_id == community_id)
    rows = await session.scalars(
        select(ObjectRow)
        .where(
            or_(ObjectRow.community_id == community_id, ObjectRow.id.in_(linked)),
            ObjectRow.removed_at.is_not(None),
        )
        .order_by(ObjectRow.removed_at.desc(), ObjectRow.id.desc())
        .limit(limit)
    )
    return list(rows)


async def has_block(session: AsyncSession, community_id: int, kind: str, value: str) -> bool:
    """Whether the community itself blocks ``value`` (not counting server-wide blocks)."""
    hit = await session.scalar(
        select(BlockRow.id).where(
            BlockRow.community_id == community_id, BlockRow.kind == kind, BlockRow.value == value
        )
    )
    return hit is not None


async def link_items_of(session: AsyncSession, object_row_id: int) -> list[LinkItemRow]:
    """Each community's record of an item that came over a link."""
    rows = await session.scalars(
        select(LinkItemRow).where(LinkItemRow.object_id == object_row_id).order_by(LinkItemRow.id)
    )
    return list(rows)


# -- moderators of remote Groups -----------------------------------------------------------


async def add_remote_moderator(session: AsyncSession, group_id: str, actor_id: str) -> bool:
    """Record ``actor_id`` as a moderator of the remote Group; False if known already.
    (Looked up first, not caught as a conflict: a savepoint is not to be relied on with
    SQLite's driver; two writers at once fail one transaction, which the inbox retries.)"""
    if await is_remote_moderator(session, group_id, actor_id):
        return False
    session.add(RemoteModeratorRow(group_id=group_id, actor_id=actor_id))
    await session.flush()
    return True


async def remove_remote_moderator(session: AsyncSession, group_id: str, actor_id: str) -> bool:
    result = await session.execute(
        delete(RemoteModeratorRow).where(
            RemoteModeratorRow.group_id == group_id, RemoteModeratorRow.actor_id == actor_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def is_remote_moderator(session: AsyncSession, group_id: str, actor_id: str) -> bool:
    hit = await session.scalar(
        select(RemoteModeratorRow.id).where(
            RemoteModeratorRow.group_id == group_id, RemoteModeratorRow.actor_id == actor_id
        )
    )
    return hit is not None


async def remote_moderators(session: AsyncSession, group_id: str) -> list[str]:
    rows = await session.scalars(
        select(RemoteModeratorRow.actor_id)
        .where(RemoteModeratorRow.group_id == group_id)
        .order_by(RemoteModeratorRow.id)
    )
    return list(rows)
