"""What a coordinator coordinates: their communities, and the fediverse account they
moderate with, which is in the ``moderators`` collection of each of their communities
(through actors.moderators, the one path ``copub moderators`` takes too)."""

from __future__ import annotations

from actors import moderators
from actors.accounts.model import Account
from actors.community import Community
from actors.moderation.modlog import Moderator
from actors.store import accounts, queries
from actors.store.db import AsyncSession
from actors.store.models_accounts import AccountRow
from actors.urls import Urls


async def communities_of(session: AsyncSession, account: Account) -> list[Community]:
    """The communities the account may work on: all for an admin, else theirs."""
    if account.is_admin:
        return await queries.list_communities(session)
    ids = await accounts.community_ids(session, account.id)
    found = [await queries.get_community_by_id(session, id_) for id_ in ids]
    return sorted((c for c in found if c is not None), key=lambda c: c.slug)


async def may_work_on(session: AsyncSession, account: Account, community_id: int) -> bool:
    return account.is_admin or await accounts.coordinates(session, account.id, community_id)


def moderator(account: Account | AccountRow) -> Moderator:
    """The account as the moderation log names who decided."""
    return Moderator(account.username, account.role)


async def _moderators(
    session: AsyncSession, urls: Urls, community_id: int, by: Moderator, *, add: str, drop: str
) -> None:
    """``drop`` leaves and ``add`` joins the community's moderators (either may be "")."""
    community = await queries.get_community_by_id(session, community_id)
    if community is None:
        return
    if drop:
        await moderators.remove_moderator(session, urls, community, drop, by=by)
    if add:
        await moderators.add_moderator(session, urls, community, add, by=by)


async def give_community(
    session: AsyncSession, urls: Urls, row: AccountRow, community_id: int, *, by: Moderator
) -> bool:
    """The account coordinates the community from now on (its linked fediverse account
    joins the community's moderators); False if it did already."""
    added = await accounts.add_community(session, row.id, community_id)
    if row.actor_url:
        await _moderators(session, urls, community_id, by, add=row.actor_url, drop="")
    return added


async def take_community(
    session: AsyncSession, urls: Urls, row: AccountRow, community_id: int, *, by: Moderator
) -> bool:
    """The account no longer coordinates the community (nor its fediverse account)."""
    removed = await accounts.remove_community(session, row.id, community_id)
    if removed and row.actor_url:
        await _moderators(session, urls, community_id, by, add="", drop=row.actor_url)
    return removed


async def link_actor(session: AsyncSession, urls: Urls, row: AccountRow, actor: str | None) -> None:
    """The account moderates as ``actor`` (an actor URL, checked by
    ``moderators.actor_url``; None unlinks): it replaces the previous one in the
    ``moderators`` collection of each of the account's communities."""
    previous = row.actor_url
    if previous == actor:
        return
    by = moderator(row)
    for community_id in await accounts.community_ids(session, row.id):
        await _moderators(session, urls, community_id, by, add=actor or "", drop=previous or "")
    row.actor_url = actor
    await session.flush()
