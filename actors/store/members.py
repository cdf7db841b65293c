"""Who a members-only community delivers to and who may fetch from it (actors/members.py).

Delivery: approved (``accepted``) followers only, blocked actors and domains left out. A
Group (a linked community: its own followers are not this community's members) only when
it is itself members-only (its actor document says so: actors.members.marks_members_only)
and approved. A shared inbox is used only when every follower of this community behind it
is an approved member; otherwise each approved member there gets its own inbox.

Fetching: an actor that is an approved member, or a server (a host) that hosts one (a
Group counts only when it is members-only too).
Read on every request: a follower removed or gone loses access with their row.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.members import marks_members_only
from actors.store import jobs
from actors.store.models import CommunityRow, FollowerRow, ObjectRow, RemoteActorRow
from actors.store.models_links import LinkItemRow
from actors.store.states import FollowerState
from federation.origins import host_of

GROUP_TYPES = frozenset({"Group"})


async def member_inboxes(
    session: AsyncSession,
    community_id: int,
    *,
    exclude_actors: Iterable[str] = (),
    until: int | None = None,
) -> list[str]:
    """Where a members-only community's activity goes (in the order followers came);
    ``until``: only followers up to that row (the members of items it kept, actors/members.py)."""
    actors, domains = await jobs.blocked(session, community_id)
    actors |= set(exclude_actors)
    rows = (
        await session.execute(
            select(
                FollowerRow.actor_id,
                FollowerRow.inbox,
                FollowerRow.shared_inbox,
                FollowerRow.state,
                RemoteActorRow.actor_type,
            )
            .outerjoin(RemoteActorRow, RemoteActorRow.ap_id == FollowerRow.actor_id)
            .where(FollowerRow.community_id == community_id, *_up_to(until))
            .order_by(FollowerRow.id)
        )
    ).all()
    linked = await _members_only_groups(
        session, [actor for actor, _, _, state, kind in rows if _approved_group(state, kind)]
    )

    def member(actor_id: str, state: FollowerState, actor_type: str | None) -> bool:
        if state != FollowerState.ACCEPTED:
            return False
        return actor_type not in GROUP_TYPES or actor_id in linked

    mixed = {  # shared inboxes behind which someone is not an approved member
        shared
        for actor_id, _inbox, shared, state, actor_type in rows
        if shared and not member(actor_id, state, actor_type)
    }
    inboxes: dict[str, None] = {}
    for actor_id, inbox, shared, state, actor_type in rows:
        if not member(actor_id, state, actor_type):
            continue
        if actor_id in actors or host_of(actor_id) in domains or host_of(inbox) in domains:
            continue
        inboxes[shared if shared and shared not in mixed else inbox] = None
    return list(inboxes)


def _approved_group(state: FollowerState, actor_type: str | None) -> bool:
    return state == FollowerState.ACCEPTED and actor_type in GROUP_TYPES


async def _members_only_groups(session: AsyncSession, group_ids: list[str]) -> set[str]:
    """Those of ``group_ids`` (Groups we know) whose actor document marks them
    members-only; their documents are read only when there are any."""
    if not group_ids:
        return set()
    rows = await session.execute(
        select(RemoteActorRow.ap_id, RemoteActorRow.ap_json).where(
            RemoteActorRow.ap_id.in_(group_ids)
        )
    )
    return {ap_id for ap_id, document in rows if isinstance(document, dict)
            and marks_members_only(document)}  # fmt: skip


def _up_to(until: int | None) -> tuple[ColumnElement[bool], ...]:
    return () if until is None else (FollowerRow.id <= until,)


async def may_fetch(
    session: AsyncSession, community_id: int, signer: str, *, until: int | None = None
) -> bool:
    """Whether ``signer`` (the owner of a verified signature's key) sees the community's
    items: an approved member (up to the row ``until``), or an actor of a server hosting
    one (its instance actor fetching for them); a linked Group is a member when it is
    members-only itself."""
    approved = (
        FollowerRow.community_id == community_id,
        FollowerRow.state == FollowerState.ACCEPTED,
        *_up_to(until),
    )
    rows = await session.execute(
        select(FollowerRow.actor_id, RemoteActorRow.actor_type)
        .outerjoin(RemoteActorRow, RemoteActorRow.ap_id == FollowerRow.actor_id)
        .where(*approved)
    )
    host = host_of(signer)
    matching = [
        (actor, actor_type)
        for actor, actor_type in rows
        if actor == signer or (host and host_of(actor) == host)
    ]
    if any(actor_type not in GROUP_TYPES for _actor, actor_type in matching):
        return True
    groups = [actor for actor, _actor_type in matching]
    return bool(await _members_only_groups(session, groups))


async def held_by_members_only(
    session: AsyncSession, object_row_id: int, community_id: int | None
) -> bool:
    """Whether every community here that holds an item (``community_id``, the one it is
    stored for, and each that recorded it over a link) is members-only."""
    held = set(
        await session.scalars(
            select(LinkItemRow.community_id).where(LinkItemRow.object_id == object_row_id)
        )
    )
    if community_id is not None:
        held.add(community_id)
    if not held:
        return True
    flags = await session.scalars(
        select(CommunityRow.members_only).where(CommunityRow.id.in_(held))
    )
    return all(flags)


async def visibility_now(session: AsyncSession, community_id: int) -> tuple[bool, bool]:
    """Whether the community is members-only and whether it keeps items for its members
    (it went public), as stored now (no cache)."""
    row = (
        await session.execute(
            select(CommunityRow.members_only, CommunityRow.gated_items).where(
                CommunityRow.id == community_id
            )
        )
    ).first()
    return (bool(row[0]), bool(row[1])) if row else (False, False)


async def kept_or_missing(
    session: AsyncSession, community_id: int, ap_id: str
) -> tuple[bool, int | None]:
    """Whether ``ap_id`` is an item the community kept for its members when it went
    public (``objects.members_only``) or no item of the community at all (the gate answers
    both alike, so the time of a 404 does not tell them apart), and the last follower row
    of its members."""
    row = (
        await session.execute(
            select(ObjectRow.members_only, CommunityRow.members_until)
            .select_from(CommunityRow)
            .outerjoin(
                ObjectRow,
                (ObjectRow.community_id == CommunityRow.id) & (ObjectRow.ap_id == ap_id),
            )
            .where(CommunityRow.id == community_id)
        )
    ).first()
    if row is None:
        return False, None
    kept, until = row
    return (kept is None or bool(kept)), until


async def kept_thread(session: AsyncSession, ap_id: str) -> bool:
    """Whether ``ap_id`` is a kept item (``objects.members_only``) or replies to one (it
    is marked kept then too: it leaves the lists and its pages are gated)."""
    row = (
        await session.execute(
            select(ObjectRow.members_only, ObjectRow.in_reply_to, ObjectRow.thread_root).where(
                ObjectRow.ap_id == ap_id
            )
        )
    ).first()
    if row is None:
        return False
    if row[0]:
        return True
    above = [a for a in (row[1], row[2]) if a]
    if not above or not await session.scalar(
        select(func.count())
        .select_from(ObjectRow)
        .where(ObjectRow.ap_id.in_(above), ObjectRow.members_only.is_(True))
    ):
        return False
    await session.execute(
        update(ObjectRow).where(ObjectRow.ap_id == ap_id).values(members_only=True)
    )
    return True


async def count_members_only_objects(session: AsyncSession) -> int:
    """Local items of members-only communities (left out of NodeInfo's count)."""
    total = await session.scalar(
        select(func.count())
        .select_from(ObjectRow)
        .join(CommunityRow, CommunityRow.id == ObjectRow.community_id)
        .where(
            CommunityRow.members_only.is_(True) | ObjectRow.members_only.is_(True),
            ObjectRow.local.is_(True),
            ObjectRow.deleted_at.is_(None),
        )
    )
    return int(total or 0)
