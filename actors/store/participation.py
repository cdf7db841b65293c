"""Queries behind the members' circles: contributions in a window, followers, coordinators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, and_, delete, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.circles import Participation
from actors.content import ItemKind
from actors.store.models import FollowerRow, ModeratorRow, ObjectRow, RemoteActorRow
from actors.store.models_practice import ParticipantRow
from actors.store.states import FollowerState, ParticipantState

MEMBER_KINDS = (ItemKind.POST, ItemKind.REPLY)
_NOT_CHOSEN = 2**62  # sorts people who are not coordinators after those who are
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and asyncpg's parameter limits


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _contributions(community_id: int, since: datetime) -> Subquery:
    """One row per contribution count: ``(actor, posts, events)`` for members' posts and
    replies, for joined events (both since ``since``) and ``(coordinator, 0, 0)``."""
    posts = (
        select(
            ObjectRow.attributed_to.label("actor"),
            func.count().label("posts"),
            literal(0).label("events"),
        )
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind.in_(MEMBER_KINDS),
            ObjectRow.published >= since,
            ObjectRow.local.is_(False),
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
        )
        .group_by(ObjectRow.attributed_to)
    )
    joined = (
        select(ParticipantRow.actor_id, literal(0), func.count())
        .join(ObjectRow, ObjectRow.id == ParticipantRow.object_id)
        .where(
            ObjectRow.community_id == community_id,
            ObjectRow.kind == ItemKind.EVENT,
            ObjectRow.deleted_at.is_(None),
            ObjectRow.members_only.is_(False),
            ParticipantRow.state == ParticipantState.JOINED,
            ParticipantRow.created_at >= since,
        )
        .group_by(ParticipantRow.actor_id)
    )
    chosen = select(ModeratorRow.actor_id, literal(0), literal(0)).where(
        ModeratorRow.community_id == community_id
    )
    return union_all(posts, joined, chosen).subquery()


async def participations(
    session: AsyncSession, community_id: int, since: datetime
) -> list[Participation]:
    """Everyone who contributed since ``since`` (inclusive), and the coordinators: one query.

    Ordered by coordinators first (in the order they were added), then by actor id."""
    people = _contributions(community_id, since)
    follower = aliased(FollowerRow)
    moderator = aliased(ModeratorRow)
    rows = await session.execute(
        select(
            people.c.actor,
            func.sum(people.c.posts),
            func.sum(people.c.events),
            func.max(follower.id),
            func.max(moderator.id),
        )
        .outerjoin(
            follower,
            and_(
                follower.community_id == community_id,
                follower.actor_id == people.c.actor,
                follower.state == FollowerState.ACCEPTED,
            ),
        )
        .outerjoin(
            moderator,
            and_(moderator.community_id == community_id, moderator.actor_id == people.c.actor),
        )
        .group_by(people.c.actor)
        .order_by(func.coalesce(func.max(moderator.id), _NOT_CHOSEN), people.c.actor)
    )
    return [
        Participation(
            actor_id=actor,
            posts=int(posts_ or 0),
            events_joined=int(events or 0),
            follower=follower_id is not None,
            coordinator=moderator_id is not None,
        )
        for actor, posts_, events, follower_id, moderator_id in rows
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
