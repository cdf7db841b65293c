"""What a coordinator coordinates: their communities, and the fediverse account they
moderate with, which is in the ``moderators`` collection of each of their communities
(through actors.moderators, the one path ``copub moderators`` takes too)."""

from __future__ import annotations

from actors import moderators
from actors.accounts.model import Account
from actors.community import Community
from actors.store import accounts, queries
from actors.store.db import AsyncSession
from actors.store.models_accounts import AccountRow


async def communities_of(session: AsyncSession, account: Account) -> list[Community]:
    """The communities the account may work on: all for an admin, else theirs."""
    if account.is_admin:
        return await queries.list_communities(session)
    ids = await accounts.community_ids(session, account.id)
    found = [await queries.get_community_by_id(session, id_) for id_ in ids]
    return sorted((c for c in found if c is not None), key=lambda c: c.slug)


async def may_work_on(session: AsyncSession, account: Account, community_id: int) -> bool:
    return account.is_admin or await accounts.coordinates(session, account.id, community_id)


async def give_community(session: AsyncSession, row: AccountRow, community_id: int) -> bool:
    """The account coordinates the community from now on (its linked fediverse account
    joins the community's moderators); False if it did already."""
    added = await accounts.add_community(session, row.id, community_id)
    if row.actor_url:
        await moderators.add_moderator(session, community_id, row.actor_url)
    return added


async def take_community(session: AsyncSession, row: AccountRow, community_id: int) -> bool:
    """The account no longer coordinates the community (nor its fediverse account)."""
    removed = await accounts.remove_community(session, row.id, community_id)
    if removed and row.actor_url:
        await moderators.remove_moderator(session, community_id, row.actor_url)
    return removed


async def link_actor(session: AsyncSession, row: AccountRow, actor: str | None) -> None:
    """The account moderates as ``actor`` (an actor URL, checked by
    ``moderators.actor_url``; None unlinks): it replaces the previous one in the
    ``moderators`` collection of each of the account's communities."""
    previous = row.actor_url
    if previous == actor:
        return
    for community_id in await accounts.community_ids(session, row.id):
        if previous:
            await moderators.remove_moderator(session, community_id, previous)
        if actor:
            await moderators.add_moderator(session, community_id, actor)
    row.actor_url = actor
    await session.flush()
