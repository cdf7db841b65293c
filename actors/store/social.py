"""Queries for followers, blocks, remote actors, objects and activities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store import memo
from actors.store.db import add_if_new, upsert_insert
from actors.store.models import (
    ActivityRow,
    BlockRow,
    FollowerRow,
    ObjectRow,
    RemoteActorRow,
    RemoteKeyRow,
)
from actors.store.states import FollowerState
from federation.origins import host_of

# -- remote actors ----------------------------------------------------------


async def get_remote_actor(session: AsyncSession, ap_id: str) -> RemoteActorRow | None:
    return await session.get(RemoteActorRow, ap_id)


async def upsert_remote_actor(session: AsyncSession, row: RemoteActorRow) -> RemoteActorRow:
    return await session.merge(row)


async def save_remote_keys(session: AsyncSession, keys: list[dict[str, Any]]) -> None:
    """Insert or replace remote keys (``remote_keys`` columns by name) in one statement. A
    stored key fetched later than the one given stays: processes write the keys they
    fetched behind (actors.remote.SqlKeyCache), and one that fetched the old key before a
    rotation may write it after another wrote the new one."""
    if not keys:
        return
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    stmt = insert(RemoteKeyRow)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[RemoteKeyRow.key_id],
            set_={
                "owner": stmt.excluded.owner,
                "public_key_pem": stmt.excluded.public_key_pem,
                "fetched_at": stmt.excluded.fetched_at,
            },
            where=RemoteKeyRow.fetched_at <= stmt.excluded.fetched_at,
        ),
        keys,
    )


# -- followers --------------------------------------------------------------


async def get_follower(
    session: AsyncSession, community_id: int, actor_id: str
) -> FollowerRow | None:
    if memo.enabled(session):  # a batch of inbox items: its actors' rows at once

        async def read(actors: frozenset[str]) -> dict[str, FollowerRow | None]:
            rows = await session.scalars(
                select(FollowerRow).where(
                    FollowerRow.community_id == community_id, FollowerRow.actor_id.in_(actors)
                )
            )
            return {row.actor_id: row for row in rows}

        return await memo.remembered_among(session, "follower", community_id, actor_id, read, None)
    return await session.scalar(
        select(FollowerRow).where(
            FollowerRow.community_id == community_id, FollowerRow.actor_id == actor_id
        )
    )


async def record_follow(
    session: AsyncSession,
    community_id: int,
    actor: RemoteActorRow,
    follow_id: str,
    *,
    closed: bool,
) -> FollowerState:
    """Store ``actor``'s Follow (activity ``follow_id``) of a community; returns the
    follower's state. A new follower is ``accepted``, or ``pending`` in a ``closed``
    community (until a moderator approves). A repeated Follow (e.g. the Accept got lost)
    keeps the follower's state and takes the new Follow's id and the actor's inboxes."""
    follower = await get_follower(session, community_id, actor.ap_id)
    if follower is None:
        follower = FollowerRow(
            community_id=community_id,
            actor_id=actor.ap_id,
            state=FollowerState.PENDING if closed else FollowerState.ACCEPTED,
        )
        session.add(follower)
    follower.follow_activity_id = follow_id
    follower.inbox = actor.inbox
    follower.shared_inbox = actor.shared_inbox
    await session.flush()
    return follower.state


async def list_followers(
    session: AsyncSession,
    community_id: int,
    *,
    state: FollowerState,
    offset: int = 0,
    limit: int = 20,
) -> list[str]:
    rows = await session.scalars(
        select(FollowerRow.actor_id)
        .where(FollowerRow.community_id == community_id, FollowerRow.state == state)
        .order_by(FollowerRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def count_followers(session: AsyncSession, community_id: int, *, state: FollowerState) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(FollowerRow)
        .where(FollowerRow.community_id == community_id, FollowerRow.state == state)
    )
    return int(total or 0)


async def remove_follower(session: AsyncSession, community_id: int, actor_id: str) -> bool:
    result = await session.execute(
        delete(FollowerRow).where(
            FollowerRow.community_id == community_id, FollowerRow.actor_id == actor_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove_follower_by_follow_id(
    session: AsyncSession, actor_id: str, follow_activity_id: str
) -> bool:
    result = await session.execute(
        delete(FollowerRow).where(
            FollowerRow.actor_id == actor_id,
            FollowerRow.follow_activity_id == follow_activity_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove_actor_everywhere(session: AsyncSession, actor_id: str) -> None:
    """A deleted account follows nothing any more."""
    await session.execute(delete(FollowerRow).where(FollowerRow.actor_id == actor_id))


# -- blocks -----------------------------------------------------------------


async def is_blocked(session: AsyncSession, community_id: int | None, actor_id: str) -> bool:
    scope = or_(BlockRow.community_id.is_(None), BlockRow.community_id == community_id)
    host = host_of(actor_id) or ""  # what a domain block names
    if memo.enabled(session):  # a batch of inbox items: the community's blocks once

        async def read() -> tuple[frozenset[str], frozenset[str]]:
            rows = (await session.execute(select(BlockRow.kind, BlockRow.value).where(scope))).all()
            actors = frozenset(value for kind, value in rows if kind == "actor")
            return actors, frozenset(value for kind, value in rows if kind == "domain")

        actors, domains = await memo.remembered(session, ("blocks", community_id), read)
        return actor_id in actors or host in domains
    hit = await session.scalar(
        select(BlockRow.id)
        .where(
            scope,
            or_(
                (BlockRow.kind == "actor") & (BlockRow.value == actor_id),
                (BlockRow.kind == "domain") & (BlockRow.value == host),
            ),
        )
        .limit(1)
    )
    return hit is not None


async def add_block(
    session: AsyncSession, community_id: int | None, kind: str, value: str, reason: str = ""
) -> bool:
    row = BlockRow(community_id=community_id, kind=kind, value=value, reason=reason)
    return await add_if_new(session, row)


async def remove_block(
    session: AsyncSession, community_id: int | None, kind: str, value: str
) -> bool:
    scope = (
        BlockRow.community_id.is_(None)
        if community_id is None
        else BlockRow.community_id == community_id
    )
    result = await session.execute(
        delete(BlockRow).where(scope, BlockRow.kind == kind, BlockRow.value == value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_blocks(session: AsyncSession, community_id: int | None) -> list[BlockRow]:
    """The community's blocks (the server-wide ones for None), oldest first."""
    scope = (
        BlockRow.community_id.is_(None)
        if community_id is None
        else BlockRow.community_id == community_id
    )
    return list(await session.scalars(select(BlockRow).where(scope).order_by(BlockRow.id)))


async def remove_blocked_followers(session: AsyncSession, community_id: int | None) -> list[str]:
    """Drop followers that a block now covers; returns their actor ids."""
    query = select(FollowerRow)
    if community_id is not None:
        query = query.where(FollowerRow.community_id == community_id)
    removed = []
    for row in await session.scalars(query):
        if await is_blocked(session, row.community_id, row.actor_id):
            removed.append(row.actor_id)
            await session.delete(row)
    return removed


# -- objects ----------------------------------------------------------------


async def get_object(session: AsyncSession, ap_id: str) -> ObjectRow | None:
    if memo.enabled(session):  # a batch of inbox items: the objects it names at once

        async def read(ap_ids: frozenset[str]) -> dict[str, ObjectRow | None]:
            rows = await session.scalars(select(ObjectRow).where(ObjectRow.ap_id.in_(ap_ids)))
            return {row.ap_id: row for row in rows}

        return await memo.remembered_among(session, "object", None, ap_id, read, None, "objects")
    return await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == ap_id))


async def list_replies(
    session: AsyncSession, ap_id: str, *, offset: int = 0, limit: int = 100
) -> list[ObjectRow]:
    rows = await session.scalars(
        select(ObjectRow)
        .where(
            ObjectRow.in_reply_to == ap_id,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
        .order_by(ObjectRow.published, ObjectRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def count_replies(session: AsyncSession, ap_id: str) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ObjectRow)
        .where(
            ObjectRow.in_reply_to == ap_id,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
    )
    return int(total or 0)


async def count_local_objects(session: AsyncSession) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ObjectRow)
        .where(ObjectRow.local.is_(True), ObjectRow.deleted_at.is_(None))
    )
    return int(total or 0)


# -- activities -------------------------------------------------------------


async def insert_activity(
    session: AsyncSession,
    *,
    community_id: int,
    ap_json: dict[str, Any],
    object_ap_id: str | None,
    public: bool = True,
    flush: bool = True,
) -> ActivityRow:
    """Write an activity; ``flush=False`` leaves the insert for the commit (batched), when
    nothing needs the row's id before then."""
    row = ActivityRow(
        ap_id=ap_json["id"],
        community_id=community_id,
        ap_type=ap_json["type"],
        object_ap_id=object_ap_id,
        public=public,
        ap_json=ap_json,
    )
    session.add(row)
    if flush:
        await session.flush()
    return row


async def withdraw_activities(session: AsyncSession, object_ap_id: str) -> None:
    """A deleted object's text must not live on in the activities that carried it: they
    leave the outbox and their URLs (the Delete sent afterwards stays public)."""
    await session.execute(
        update(ActivityRow)
        .where(ActivityRow.object_ap_id == object_ap_id, ActivityRow.public.is_(True))
        .values(public=False)
    )


async def get_activity(session: AsyncSession, ap_id: str) -> ActivityRow | None:
    return await session.scalar(select(ActivityRow).where(ActivityRow.ap_id == ap_id))


async def list_outbox(
    session: AsyncSession, community_id: int, *, offset: int, limit: int
) -> list[ActivityRow]:
    rows = await session.scalars(
        select(ActivityRow)
        .where(ActivityRow.community_id == community_id, ActivityRow.public.is_(True))
        .order_by(ActivityRow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def count_outbox(session: AsyncSession, community_id: int) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ActivityRow)
        .where(ActivityRow.community_id == community_id, ActivityRow.public.is_(True))
    )
    return int(total or 0)
