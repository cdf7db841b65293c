"""Links, inbound: the answer to our Follow (``Accept``/``Reject``), what linked communities
publish or announce (``Create``/``Announce``), and their edits and deletions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors.inbound import linked
from actors.inbound.context import InboundContext
from actors.inbound.filing import parse_time
from actors.store import links as store
from actors.store import social
from actors.store.models_links import LinkRow
from federation.client import RemoteStatusError
from federation.errors import FederationError
from federation.httpsig import origin_of
from federation.vocab import JSON, get_id

log = logging.getLogger(__name__)

GONE = frozenset({404, 410})


async def _answered_link(
    ctx: InboundContext, session: AsyncSession, sender: str, follow: object
) -> LinkRow | None:
    """Our link that an Accept/Reject from ``sender`` answers: the Follow by its id (ours,
    the latest or an earlier one), else an embedded Follow from one of our communities."""
    follow_id = get_id(follow)
    if follow_id is not None:
        row = await store.link_by_follow(session, sender, follow_id)
        if row is not None:
            return row
        sent = await social.get_activity(session, follow_id)
        if sent is not None and sent.ap_type == "Follow" and sent.object_ap_id == sender:
            return await store.get_link(session, sent.community_id, sender)
    if isinstance(follow, dict) and get_id(follow.get("object")) == sender:
        community = await ctx.community_for(session, get_id(follow.get("actor")))
        if community is not None:
            return await store.get_link(session, community.id, sender)
    return None


async def _answer(ctx: InboundContext, activity: JSON, state: str) -> None:
    sender = str(get_id(activity.get("actor")))
    async with ctx.write() as session:
        link = await _answered_link(ctx, session, sender, activity.get("object"))
        if link is None:
            log.info("%s from %s answers no Follow of ours", activity.get("type"), sender)
            return
        link.state = state
        link.updated_at = datetime.now(UTC)
    log.info(
        "link to %s %s",
        sender,
        state,
        extra={"activity_id": activity.get("id"), "activity_type": activity.get("type")},
    )


async def on_accept(ctx: InboundContext, activity: JSON) -> None:
    await _answer(ctx, activity, "accepted")


async def on_reject(ctx: InboundContext, activity: JSON) -> None:
    await _answer(ctx, activity, "rejected")


async def on_announce(ctx: InboundContext, activity: JSON) -> None:
    """A linked community shares an item (or an edit or deletion of one)."""
    sender = str(get_id(activity.get("actor")))
    inner = activity.get("object")
    if isinstance(inner, dict) and inner.get("type") in ("Update", "Delete"):
        await on_linked_change(ctx, sender, inner, activity)
        return
    if not await linked.receive_item(ctx, activity):
        log.info("Announce from %s ignored: no community here links to it", sender)


async def on_linked_create(ctx: InboundContext, activity: JSON) -> bool:
    """A Create from a Group a community here links to; False when it is not one."""
    return await linked.receive_item(ctx, activity)


async def on_linked_change(
    ctx: InboundContext, sender: str, change: JSON, wrapper: JSON | None = None
) -> bool:
    """An Update or Delete of an item that came over a link, confirmed at its origin;
    False when the object is not such an item (the member-post handlers take it)."""
    object_id = get_id(change.get("object"))
    if object_id is None:
        return False
    async with ctx.sessions() as session:
        row = await social.get_object(session, object_id)
    if row is None or row.kind != store.LINKED_KIND:
        return False
    if row.deleted_at is not None:
        return True
    if change.get("type") == "Delete":
        if await _gone(ctx, sender, object_id):
            async with ctx.write() as session:
                stored = await social.get_object(session, object_id)
                if stored is not None:
                    stored.deleted_at = datetime.now(UTC)
            log.info("linked item %s deleted at its origin", object_id)
        return True
    inner = change.get("object")
    item = inner if isinstance(inner, dict) else object_id
    obj = await linked.verified_item(ctx, sender, item, wrapper or change, None)
    if obj is not None:
        async with ctx.write() as session:
            stored = await social.get_object(session, object_id)
            if stored is not None:
                fresh = linked.linked_row(stored.community_id, obj)
                for name in ("title", "content_html", "summary", "ap_json", "ap_type"):
                    setattr(stored, name, getattr(fresh, name))
                stored.updated = parse_time(obj.get("updated")) or datetime.now(UTC)
        log.info("linked item %s updated", object_id)
    return True


async def _gone(ctx: InboundContext, sender: str, object_id: str) -> bool:
    """Whether the item's origin says it is gone: the Delete comes from its own server, or
    its URL answers 404/410 or a Tombstone."""
    origin = origin_of(object_id)
    if origin is not None and origin == origin_of(sender):
        return True
    try:
        obj = await ctx.fetch_object(object_id, None)
    except RemoteStatusError as exc:
        return exc.status in GONE
    except FederationError as exc:
        log.info("Delete of %s not confirmed: %s", object_id, exc.reason)
        return False
    return obj.get("type") == "Tombstone"
