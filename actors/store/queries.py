"""Communities (their rows read into :class:`Community` and written from it), their
moderators and the server's own key: small functions over an ``AsyncSession``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors.community import Community, PostingPolicy
from actors.errors import Conflict
from actors.store import memo
from actors.store.models import (
    ActivityRow,
    CommunityRow,
    FollowerRow,
    ModeratorRow,
    ObjectRow,
    ServerKeyRow,
)


class AlreadyExists(Conflict):
    """A row with the same natural key is already stored."""


def community_from_row(row: CommunityRow) -> Community:
    return Community(
        id=row.id,
        slug=row.slug,
        name=row.name,
        summary=row.summary,
        closed=row.closed,
        posting_policy=PostingPolicy.parse(row.posting_policy),
        hold_first_posts=row.hold_first_posts,
        posts_per_hour=row.posts_per_hour,
        modlog_names=row.modlog_names,
        members_only=row.members_only,
        gated_items=row.gated_items,
        members_until=row.members_until,
        public_key_pem=row.public_key_pem,
        private_key_pem=row.private_key_pem,
        created_at=row.created_at,
        profile_fields=tuple((str(f["name"]), str(f["value"])) for f in row.profile_fields),
    )


async def insert_community(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    summary: str,
    closed: bool,
    private_key_pem: str,
    public_key_pem: str,
    profile_fields: Sequence[tuple[str, str]] = (),
    members_only: bool = False,
) -> Community:
    row = CommunityRow(
        slug=slug,
        name=name,
        summary=summary,
        closed=closed or members_only,
        members_only=members_only,
        posting_policy="followers",
        private_key_pem=private_key_pem,
        public_key_pem=public_key_pem,
        profile_fields=[{"name": n, "value": v} for n, v in profile_fields],
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(slug) from exc
    return community_from_row(row)


async def update_community(
    session: AsyncSession,
    community_id: int,
    *,
    name: str,
    summary: str,
    closed: bool,
    profile_fields: Sequence[tuple[str, str]],
    members_only: bool | None = None,
) -> Community:
    """Store what the community says of itself (its slug and keys never change);
    ``members_only`` None keeps its visibility."""
    row = await session.get(CommunityRow, community_id)
    if row is None:
        raise LookupError(community_id)
    row.name, row.summary, row.closed = name, summary, closed
    if members_only is False and row.members_only:
        await _keep_for_members(session, community_id)
        row.gated_items = True
        row.members_until = await session.scalar(
            select(func.max(FollowerRow.id)).where(FollowerRow.community_id == community_id)
        )
    if members_only is not None:
        row.members_only = members_only
    row.profile_fields = [{"name": n, "value": v} for n, v in profile_fields]
    await session.flush()
    return community_from_row(row)


async def _keep_for_members(session: AsyncSession, community_id: int) -> None:
    """A members-only community goes public: every item it has now stays its members'
    (those from before it was members-only too: they have been gated since), and the
    activities that carried them leave its outbox and their URLs."""
    await session.execute(
        update(ObjectRow).where(ObjectRow.community_id == community_id).values(members_only=True)
    )
    await session.execute(
        update(ActivityRow)
        .where(ActivityRow.community_id == community_id, ActivityRow.public.is_(True))
        .values(public=False)
    )


async def update_moderation_settings(
    session: AsyncSession,
    community_id: int,
    *,
    posting_policy: PostingPolicy,
    hold_first_posts: bool,
    posts_per_hour: int,
    modlog_names: bool,
) -> Community:
    """Store who the community relays without a hold, and whether its log names names."""
    row = await session.get(CommunityRow, community_id)
    if row is None:
        raise LookupError(community_id)
    row.posting_policy = posting_policy.value
    row.hold_first_posts, row.posts_per_hour = hold_first_posts, posts_per_hour
    row.modlog_names = modlog_names
    await session.flush()
    return community_from_row(row)


async def get_community(session: AsyncSession, slug: str) -> Community | None:
    async def read() -> Community | None:
        row = await session.scalar(select(CommunityRow).where(CommunityRow.slug == slug))
        return community_from_row(row) if row else None

    return await memo.remembered(session, ("community", slug), read)


async def list_communities(session: AsyncSession) -> list[Community]:
    rows = await session.scalars(select(CommunityRow).order_by(CommunityRow.slug))
    return [community_from_row(r) for r in rows]


async def list_moderators(session: AsyncSession, community_id: int) -> list[str]:
    rows = await session.scalars(
        select(ModeratorRow.actor_id)
        .where(ModeratorRow.community_id == community_id)
        .order_by(ModeratorRow.id)
    )
    return list(rows)


async def add_moderator(session: AsyncSession, community_id: int, actor_id: str) -> None:
    session.add(ModeratorRow(community_id=community_id, actor_id=actor_id))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(actor_id) from exc


async def get_server_key(session: AsyncSession) -> ServerKeyRow | None:
    return await session.scalar(select(ServerKeyRow).order_by(ServerKeyRow.id).limit(1))


async def insert_server_key(
    session: AsyncSession, private_key_pem: str, public_key_pem: str
) -> ServerKeyRow:
    row = ServerKeyRow(private_key_pem=private_key_pem, public_key_pem=public_key_pem)
    session.add(row)
    await session.flush()
    return row


async def get_community_by_id(session: AsyncSession, community_id: int) -> Community | None:
    async def read() -> Community | None:
        row = await session.get(CommunityRow, community_id)
        return community_from_row(row) if row else None

    return await memo.remembered(session, ("community id", community_id), read)


async def is_moderator(session: AsyncSession, community_id: int, actor_id: str) -> bool:
    if memo.enabled(session):  # a batch of inbox items: the community's moderators once
        moderators = await memo.remembered(
            session, ("moderators", community_id), lambda: _moderators(session, community_id)
        )
        return actor_id in moderators
    hit = await session.scalar(
        select(ModeratorRow.id).where(
            ModeratorRow.community_id == community_id, ModeratorRow.actor_id == actor_id
        )
    )
    return hit is not None


async def _moderators(session: AsyncSession, community_id: int) -> frozenset[str]:
    rows = await session.scalars(
        select(ModeratorRow.actor_id).where(ModeratorRow.community_id == community_id)
    )
    return frozenset(rows)
