"""Queries for links between communities, the items that came over them and the network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from actors.content import ItemKind
from actors.store import memo
from actors.store.models import FollowerRow, ObjectRow, RemoteActorRow
from actors.store.models_links import LinkItemRow, LinkRow, NetworkCacheRow
from actors.store.states import FollowerState, LinkState

GROUP = "Group"

# -- links (outgoing) -------------------------------------------------------------------


async def get_link(session: AsyncSession, community_id: int, actor_id: str) -> LinkRow | None:
    return await session.scalar(
        select(LinkRow).where(
            LinkRow.community_id == community_id, LinkRow.remote_actor_id == actor_id
        )
    )


async def list_links(session: AsyncSession, community_id: int) -> list[LinkRow]:
    rows = await session.scalars(
        select(LinkRow).where(LinkRow.community_id == community_id).order_by(LinkRow.id)
    )
    return list(rows)


async def accepted_links_from(session: AsyncSession, actor_id: str) -> list[LinkRow]:
    """Our accepted links to ``actor_id`` (one per community of ours that follows it)."""
    if memo.enabled(session):  # a batch of inbox items: its actors' links at once

        async def read(actors: frozenset[str]) -> dict[str, list[LinkRow]]:
            found: dict[str, list[LinkRow]] = {}
            rows = await session.scalars(
                select(LinkRow)
                .where(LinkRow.remote_actor_id.in_(actors), LinkRow.state == LinkState.ACCEPTED)
                .order_by(LinkRow.id)
            )
            for row in rows:
                found.setdefault(row.remote_actor_id, []).append(row)
            return found

        empty: list[LinkRow] = []
        links = await memo.remembered_among(session, "links from", None, actor_id, read, empty)
        return list(links)
    rows = await session.scalars(
        select(LinkRow)
        .where(LinkRow.remote_actor_id == actor_id, LinkRow.state == LinkState.ACCEPTED)
        .order_by(LinkRow.id)
    )
    return list(rows)


async def link_by_follow(session: AsyncSession, sender: str, follow_id: str) -> LinkRow | None:
    """The link whose Follow (by id) went to ``sender``."""
    return await session.scalar(
        select(LinkRow).where(
            LinkRow.follow_activity_id == follow_id, LinkRow.remote_actor_id == sender
        )
    )


async def count_links(session: AsyncSession) -> dict[int, int]:
    """Accepted outgoing links per community id."""
    rows = await session.execute(
        select(LinkRow.community_id, func.count())
        .where(LinkRow.state == LinkState.ACCEPTED)
        .group_by(LinkRow.community_id)
    )
    return {community_id: int(n) for community_id, n in rows}


async def following_ids(
    session: AsyncSession, community_id: int, *, offset: int, limit: int
) -> tuple[list[str], int]:
    """The accepted links of a community (its ``following`` collection) and their count."""
    where = (LinkRow.community_id == community_id, LinkRow.state == LinkState.ACCEPTED)
    total = await session.scalar(select(func.count()).select_from(LinkRow).where(*where))
    if not limit:
        return [], int(total or 0)
    rows = await session.scalars(
        select(LinkRow.remote_actor_id)
        .where(*where)
        .order_by(LinkRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


# -- incoming links: Groups among the followers -------------------------------------------


async def incoming_links(
    session: AsyncSession, community_id: int
) -> list[tuple[FollowerRow, RemoteActorRow]]:
    rows = await session.execute(
        select(FollowerRow, RemoteActorRow)
        .join(RemoteActorRow, RemoteActorRow.ap_id == FollowerRow.actor_id)
        .where(FollowerRow.community_id == community_id, RemoteActorRow.actor_type == GROUP)
        .order_by(FollowerRow.id)
    )
    return [(follower, actor) for follower, actor in rows]


async def remote_actors(session: AsyncSession, ids: Sequence[str]) -> dict[str, RemoteActorRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(RemoteActorRow).where(RemoteActorRow.ap_id.in_(ids)))
    return {row.ap_id: row for row in rows}


# -- items that came over links ------------------------------------------------------------


async def has_item(session: AsyncSession, community_id: int, object_row_id: int) -> bool:
    hit = await session.scalar(
        select(LinkItemRow.id).where(
            LinkItemRow.community_id == community_id, LinkItemRow.object_id == object_row_id
        )
    )
    return hit is not None


async def announced_items(session: AsyncSession, object_row_id: int) -> list[LinkItemRow]:
    """The records of an item in the communities here that announced it to their followers
    (where its edits and deletion must follow)."""
    rows = await session.scalars(
        select(LinkItemRow)
        .where(LinkItemRow.object_id == object_row_id, LinkItemRow.announced.is_(True))
        .order_by(LinkItemRow.id)
    )
    return list(rows)


async def recent_items(
    session: AsyncSession, community_id: int, *, limit: int, kinds: Sequence[str]
) -> list[tuple[ObjectRow, LinkItemRow]]:
    """The newest items from linked communities (newest received first)."""
    rows = await session.execute(
        select(ObjectRow, LinkItemRow)
        .join(LinkItemRow, LinkItemRow.object_id == ObjectRow.id)
        .where(
            LinkItemRow.community_id == community_id,
            LinkItemRow.kind.in_(kinds),
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
        .options(defer(ObjectRow.ap_json), defer(ObjectRow.source_markdown))
        .order_by(LinkItemRow.received_at.desc(), LinkItemRow.id.desc())
        .limit(limit)
    )
    return [(obj, item) for obj, item in rows]


@dataclass(frozen=True)
class Participation:
    """Who took part where: actor ids by community actor id."""

    by_community: dict[str, set[str]]


async def people_by_community(
    session: AsyncSession, community_id: int, community_actor: str, *, limit: int = 5000
) -> Participation:
    """People of our community (accepted followers that are not Groups, authors of the
    posts it stored) and of each linked community (authors of the items that came from
    it), bounded by ``limit`` rows each."""
    groups = select(RemoteActorRow.ap_id).where(RemoteActorRow.actor_type == GROUP)
    ours: set[str] = set()
    followers = await session.scalars(
        select(FollowerRow.actor_id)
        .where(
            FollowerRow.community_id == community_id,
            FollowerRow.state == FollowerState.ACCEPTED,
            FollowerRow.actor_id.not_in(groups),
        )
        .limit(limit)
    )
    ours.update(followers)
    authors = await session.scalars(
        select(ObjectRow.attributed_to)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind != ItemKind.LINKED,
            ObjectRow.local.is_(False),
        )
        .distinct()
        .limit(limit)
    )
    ours.update(authors)
    by_community: dict[str, set[str]] = {community_actor: ours}
    linked = await session.execute(
        select(LinkItemRow.origin_group, ObjectRow.attributed_to)
        .join(ObjectRow, ObjectRow.id == LinkItemRow.object_id)
        .where(
            LinkItemRow.community_id == community_id,
            ObjectRow.attributed_to != LinkItemRow.origin_group,
            ObjectRow.attributed_to.not_in(groups),
        )
        .distinct()
        .limit(limit)
    )
    for group, author in linked:
        by_community.setdefault(group, set()).add(author)
    return Participation(by_community)


# -- the network's second hop ----------------------------------------------------------------


async def cached_following(
    session: AsyncSession, actor_ids: Sequence[str]
) -> dict[str, NetworkCacheRow]:
    if not actor_ids:
        return {}
    rows = await session.scalars(
        select(NetworkCacheRow).where(NetworkCacheRow.actor_id.in_(actor_ids))
    )
    return {row.actor_id: row for row in rows}


async def linked_group_ids(session: AsyncSession, community_id: int) -> list[str]:
    """Both directions: the Groups we follow (accepted) and the Groups that follow us."""
    outgoing = await session.scalars(
        select(LinkRow.remote_actor_id).where(
            LinkRow.community_id == community_id, LinkRow.state == LinkState.ACCEPTED
        )
    )
    found = set(outgoing)
    found.update(
        follower.actor_id
        for follower, _actor in await incoming_links(session, community_id)
        if follower.state == FollowerState.ACCEPTED
    )
    return sorted(found)
