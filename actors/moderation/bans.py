"""A coordinator bans an actor from the community (and lifts the ban).

A ban is the community's block of the actor (``actors.followers.block``: no longer a
follower, their posts no longer relayed) told as Lemmy tells it: the community's ``Block``
with itself as ``target`` and the reason, announced to the followers and sent to the
banned actor; lifting it sends its ``Undo``. "Remove their posts" removes every post of
theirs the community still shows, each with its own removal, in the same transaction.

The console and ``copub ban|unban`` call these.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from actors import outbound
from actors.community import Community
from actors.errors import Invalid
from actors.followers import ACTOR, Target, block, unblock
from actors.hooks import ObjectObserver
from actors.moderation import modlog
from actors.moderation.modlog import Moderator
from actors.moderation.removals import remove_post
from actors.moderators import actor_url
from actors.store import mod_actions, queries, social
from actors.store.db import AsyncSession
from actors.store.models_moderation import ModAction
from actors.urls import Urls
from federation.vocab import JSON

log = logging.getLogger(__name__)


class CannotBan(Invalid):
    """The community itself, or one of its coordinators."""


@dataclass(frozen=True)
class Banned:
    actor: str
    added: bool  # False: banned already (nothing was sent again)
    removed: list[str] = field(default_factory=list)  # their posts removed now


async def _inbox_of(session: AsyncSession, community_id: int, actor: str) -> str | None:
    """Where the banned actor hears of it: their inbox as a follower, else as known."""
    follower = await social.get_follower(session, community_id, actor)
    if follower is not None:
        return follower.shared_inbox or follower.inbox
    known = await social.get_remote_actor(session, actor)
    return (known.shared_inbox or known.inbox) if known is not None else None


async def _tell(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    activity: JSON,
    actor: str,
    inbox: str | None,
) -> None:
    """To the followers (announced, as Lemmy's communities do) and to the actor's inbox."""
    announce = outbound.announced(urls, community, activity)
    await outbound.send_to_followers(session, community, announce, object_id=actor)
    if inbox is not None:
        await outbound.send_to_inbox(session, community, activity, inbox)


async def ban(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor: str,
    *,
    by: Moderator,
    reason: str = "",
    remove_posts: bool = False,
    observers: Sequence[ObjectObserver] = (),
) -> Banned:
    """Ban ``actor`` (an actor's URL) from the community; with ``remove_posts``, also
    remove the posts of theirs it still shows. A second ban sends nothing again (but
    still removes posts, if asked)."""
    actor = actor_url(actor)
    if actor == urls.community(community.slug):
        raise CannotBan("a community cannot ban itself")
    if await queries.is_moderator(session, community.id, actor):
        raise CannotBan(f"{actor} coordinates {community.slug}: remove them as coordinator first")
    reason = modlog.clean_reason(reason)
    inbox = await _inbox_of(session, community.id, actor)  # before the block drops them
    added = not await mod_actions.has_block(session, community.id, ACTOR, actor)
    if added:
        await block(session, community.id, Target(ACTOR, actor), reason)
        activity = outbound.build_block_from_community(
            urls, community, actor, reason, remove_data=remove_posts
        )
        await _tell(session, urls, community, activity, actor, inbox)
        await modlog.record(session, community, ModAction.BANNED, actor, by, reason)
        log.info("banned %s", actor, extra={"community": community.slug})
    removed: list[str] = []
    if remove_posts:
        for row in await mod_actions.visible_posts_by(session, community.id, actor):
            why = reason or "posts of a banned actor"
            if await remove_post(
                session, urls, community, row, by=by, reason=why, observers=observers
            ):
                removed.append(row.ap_id)
    return Banned(actor, added, removed)


async def unban(
    session: AsyncSession, urls: Urls, community: Community, actor: str, *, by: Moderator
) -> bool:
    """Lift the ban of ``actor``; False if there was none (nothing is sent)."""
    actor = actor_url(actor)
    if not await unblock(session, community.id, Target(ACTOR, actor)):
        return False
    banned = await mod_actions.latest_sent(
        session, community.id, actor, "Block", urls.moderation()
    ) or outbound.build_block_from_community(urls, community, actor)
    undo = outbound.build_moderation_undo(urls, community, banned)
    inbox = await _inbox_of(session, community.id, actor)
    await _tell(session, urls, community, undo, actor, inbox)
    await modlog.record(session, community, ModAction.UNBANNED, actor, by)
    log.info("unbanned %s", actor, extra={"community": community.slug})
    return True
