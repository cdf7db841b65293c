"""A person asks a community to leave them off (or put them back on) its who-knows page
(actors/whoknows.py): a post by them, mentioning or addressed to the community (a direct
message does), that says the phrase. The request is filed, not relayed."""

from __future__ import annotations

import logging

from actors.inbound.context import InboundContext
from actors.store import queries
from actors.store import whoknows as store
from actors.whoknows import Request, request_in
from federation.intake import safe_url
from federation.origins import same_origin
from federation.vocab import JSON, actor_of, get_id

log = logging.getLogger(__name__)


async def on_who_knows_request(ctx: InboundContext, activity: JSON) -> bool:
    """File the request a Create carries, if it is one (True: handled, not to be relayed)."""
    obj = activity.get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("content"), str):
        return False
    asked = request_in(obj["content"][:20_000])
    if asked is None:
        return False
    actor = str(actor_of(activity))
    post = safe_url(get_id(obj))
    author = get_id(obj.get("attributedTo")) or actor
    if post is None or author != actor or not same_origin(post, actor):
        return False  # not theirs to ask: let the usual path judge the post
    slugs = ctx.addressed_slugs(activity, obj)  # naming it, not only replying in a thread
    if not slugs:
        return False
    async with ctx.write() as session:
        for slug in slugs:
            community = await queries.get_community(session, slug)
            if community is None:
                continue
            if asked == Request.LEAVE_OUT:
                changed = await store.leave_out(session, community.id, actor, post)
            else:
                changed = await store.put_back(session, community.id, actor)
            log.info(
                "who-knows: %s asked %s to %s them%s", actor, slug, asked.value,
                "" if changed else " (already so)",
                extra={"activity_id": activity.get("id"), "community": slug},
            )  # fmt: skip
    return True
