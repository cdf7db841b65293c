"""Follow, Undo(Follow): who receives a community's activities."""

from __future__ import annotations

import logging

from actors import outbound
from actors.inbound.context import InboundContext
from actors.store import social
from actors.store.states import FollowerState
from federation.vocab import JSON, actor_of, get_id, object_id_of

log = logging.getLogger(__name__)


async def on_follow(ctx: InboundContext, activity: JSON) -> None:
    actor_id = actor_of(activity)
    target = object_id_of(activity)
    async with ctx.read() as session:
        community = await ctx.community_for(session, target)
    if community is None or actor_id is None:
        log.info("Follow of an unknown object %s ignored", target)
        return
    actor = await ctx.lookup_actor(actor_id, community)
    async with ctx.write() as session:
        if await social.is_blocked(session, community.id, actor_id):
            reject = outbound.build_reject(ctx.urls, community, activity)
            await outbound.send_to_inbox(session, community, reject, actor.inbox)
            log.info(
                "Follow from blocked %s rejected", actor_id, extra={"community": community.slug}
            )
            return
        # a repeated Follow (e.g. the Accept got lost) is answered again
        state = await social.record_follow(
            session, community.id, actor, activity["id"], closed=community.closed
        )
        if state == FollowerState.ACCEPTED:
            accept = outbound.build_accept(ctx.urls, community, activity)
            await outbound.send_to_inbox(session, community, accept, actor.inbox)
        log.info(
            "Follow from %s: %s",
            actor_id,
            state,
            extra={"community": community.slug, "activity_id": activity["id"]},
        )


async def on_undo_follow(ctx: InboundContext, activity: JSON, follow: JSON | str) -> None:
    actor_id = actor_of(activity)
    target = object_id_of(follow) if isinstance(follow, dict) else None
    async with ctx.write() as session:
        communities = [c] if (c := await ctx.community_for(session, target)) is not None else []
        if not communities and ctx.recipient_slug:
            c = await ctx.community_for(session, ctx.urls.community(ctx.recipient_slug))
            communities = [c] if c else []
        for community in communities:
            if actor_id and await social.remove_follower(session, community.id, actor_id):
                log.info("%s unfollowed", actor_id, extra={"community": community.slug})
        follow_id = get_id(follow)
        if not communities and follow_id and actor_id:
            await social.remove_follower_by_follow_id(session, actor_id, follow_id)
