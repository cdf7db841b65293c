"""Queries behind the members' circles: contributions in a window, followers, coordinators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.members import Participation
from actors.store.models import FollowerRow, ModeratorRow, ObjectRow, RemoteActorRow
from actors.store.models_practice import ParticipantRow

MEMBER_KINDS = ("post", "reply")
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and asyncpg's parameter limits


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def posts_by_actor(
    session: AsyncSession, community_id: int, since: datetime
) -> dict[str, int]:
    """Members' posts and replies to the community since ``since`` (inclusive), per author."""
    rows = await session.execute(
        select(ObjectRow.attributed_to, func.count())
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind.in_(MEMBER_KINDS),
            ObjectRow.published >= since,
            ObjectRow.local.is_(False),
            ObjectRow.deleted_at.is_(None),
        )
        .group_by(ObjectRow.attributed_to)
    )
    return {actor: int(count) for actor, count in rows}


async def events_joined_by_actor(
    session: AsyncSession, community_id: int, since: datetime
) -> dict[str, int]:
    """Events of the community joined since ``since`` (inclusive), per participant."""
    rows = await session.execute(
        select(ParticipantRow.actor_id, func.count())
        .join(ObjectRow, ObjectRow.id == ParticipantRow.object_id)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.deleted_at.is_(None),
            ParticipantRow.state == "joined",
            ParticipantRow.created_at >= since,
        )
        .group_by(ParticipantRow.actor_id)
    )
    return {actor: int(count) for actor, count in rows}


async def followers_among(
    session: AsyncSession, community_id: int, actor_ids: Sequence[str]
) -> set[str]:
    """Which of ``actor_ids`` are accepted followers."""
    found: set[str] = set()
    for chunk in _chunks(actor_ids):
        rows = await session.scalars(
            select(FollowerRow.actor_id).where(
                FollowerRow.community_id == community_id,
                FollowerRow.state == "accepted",
                FollowerRow.actor_id.in_(chunk),
            )
        )
        found.update(rows)
    return found


async def participations(
    session: AsyncSession, community_id: int, since: datetime, coordinators: Sequence[str]
) -> list[Participation]:
    """Everyone who contributed since ``since``, and the coordinators."""
    posts = await posts_by_actor(session, community_id, since)
    joined = await events_joined_by_actor(session, community_id, since)
    people = sorted({*posts, *joined, *coordinators})
    following = await followers_among(session, community_id, people)
    chosen = set(coordinators)
    return [
        Participation(
            actor_id=actor,
            posts=posts.get(actor, 0),
            events_joined=joined.get(actor, 0),
            follower=actor in following,
            coordinator=actor in chosen,
        )
        for actor in people
    ]


@dataclass(frozen=True)
class KnownActor:
    """How to name a remote actor: what its server told us when we last fetched it."""

    actor_id: str
    name: str | None
    handle: str | None
    url: str | None


async def known_actors(session: AsyncSession, actor_ids: Sequence[str]) -> dict[str, KnownActor]:
    """What we know of these remote actors, by id (those never fetched are missing)."""
    known: dict[str, KnownActor] = {}
    for chunk in _chunks(actor_ids):
        rows = await session.execute(
            select(
                RemoteActorRow.ap_id, RemoteActorRow.name, RemoteActorRow.handle, RemoteActorRow.url
            ).where(RemoteActorRow.ap_id.in_(chunk))
        )
        known.update((row[0], KnownActor(*row)) for row in rows)
    return known


async def remove_moderator(session: AsyncSession, community_id: int, actor_id: str) -> bool:
    result = await session.execute(
        delete(ModeratorRow).where(
            ModeratorRow.community_id == community_id, ModeratorRow.actor_id == actor_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
