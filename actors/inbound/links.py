"""Links, inbound: the answer to our Follow (``Accept``/``Reject``), what linked communities
publish or announce (``Create``/``Announce``), and their edits and deletions."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from actors import outbound
from actors.inbound import linked
from actors.inbound.context import InboundContext
from actors.items import ItemKind, revise_item, withdraw_item
from actors.remote import actor_row
from actors.store import links as store
from actors.store import members, queries, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_links import LinkRow
from actors.store.states import LinkState
from federation.client import RemoteStatusError
from federation.errors import FederationError
from federation.intake import remote_time
from federation.origins import same_origin
from federation.vocab import JSON, PUBLIC, actor_of, get_id, has_type, main_type, object_id_of

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
    if isinstance(follow, dict) and object_id_of(follow) == sender:
        community = await ctx.community_for(session, actor_of(follow))
        if community is not None:
            return await store.get_link(session, community.id, sender)
    return None


async def _answer(ctx: InboundContext, activity: JSON, state: LinkState) -> None:
    sender = str(actor_of(activity))
    async with ctx.write() as session:
        link = await _answered_link(ctx, session, sender, activity.get("object"))
        if link is None:
            log.info("%s from %s answers no Follow of ours", main_type(activity), sender)
            return
        link.state = state
        link.updated_at = datetime.now(UTC)
    log.info(
        "link to %s %s",
        sender,
        state,
        extra={"activity_id": activity.get("id"), "activity_type": main_type(activity)},
    )


async def on_accept(ctx: InboundContext, activity: JSON) -> None:
    await _answer(ctx, activity, LinkState.ACCEPTED)


async def on_reject(ctx: InboundContext, activity: JSON) -> None:
    await _answer(ctx, activity, LinkState.REJECTED)


async def on_group_update(ctx: InboundContext, activity: JSON) -> bool:
    """An ``Update`` of a Group's own actor document (what copub, Lemmy and Mastodon send
    when a profile changes), for a Group we know: our copy is refreshed at once, so a
    members-only community learns that a linked one is no longer members-only (or has
    become so) before it sends anything more (actors/store/members.py). False when the
    activity is not one."""
    sender = str(actor_of(activity))
    obj = activity.get("object")
    if not isinstance(obj, dict) or get_id(obj) != sender or not has_type(obj, "Group"):
        return False
    try:
        fresh = actor_row(obj, ctx.limits)  # the inbox checked the signer is the sender
    except FederationError as exc:
        log.info("Update of the Group %s ignored: %s", sender, exc.reason)
        return True
    async with ctx.write() as session:
        if sender in await store.remote_actors(session, [sender]):
            await social.upsert_remote_actor(session, fresh)
            log.info("the Group %s updated its actor document", sender)
    return True


async def on_announce(ctx: InboundContext, activity: JSON) -> None:
    """A linked community shares an item (or an edit or deletion of one)."""
    sender = str(actor_of(activity))
    inner = activity.get("object")
    if isinstance(inner, dict) and has_type(inner, "Update", "Delete"):
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
    object_id = object_id_of(change)
    if object_id is None:
        return False
    async with ctx.read() as session:
        row = await social.get_object(session, object_id)
    if row is None or row.kind != ItemKind.LINKED:
        return False
    if row.deleted_at is not None:
        return True
    if has_type(change, "Delete"):
        if await _gone(ctx, sender, object_id):
            await _withdraw(ctx, sender, change, object_id)
        return True
    inner = change.get("object")
    item = inner if isinstance(inner, dict) else object_id
    async with ctx.read() as session:
        from_members_only = await linked.members_only_group(session, sender)
    obj = await linked.verified_item(
        ctx, sender, item, wrapper or change, None, members_only=from_members_only
    )
    if obj is not None:
        await _revise(ctx, sender, change, obj, wrapper or change)
    return True


async def _revise(ctx: InboundContext, sender: str, change: JSON, obj: JSON, wrapper: JSON) -> None:
    """Take the origin's copy ``obj`` when it is a new version of the stored one, and pass
    the Update on; an unchanged (or older) copy changes nothing and goes no further, nor
    does a version that is not public of an item a public community here holds."""
    async with ctx.write() as session:
        stored = await social.get_object(session, obj["id"])
        if stored is None or stored.deleted_at is not None:
            return
        if not linked.public_item(obj, wrapper) and not await members.held_by_members_only(
            session, stored.id, stored.community_id
        ):
            log.info("linked item %s: a version that is not public, held in public", obj["id"])
            return
        if not linked.supersedes(obj, stored.ap_json):
            log.info("linked item %s: no new version at its origin", obj["id"])
            return
        item = linked.linked_item(stored.community_id, obj)
        updated = remote_time(obj.get("updated")) or datetime.now(UTC)
        await revise_item(session, stored, replace(item, updated=updated), send=None)
        await _pass_on(ctx, session, stored, relayed("Update", change, obj), sender)
    log.info("linked item %s updated", obj["id"])


async def _withdraw(ctx: InboundContext, sender: str, change: JSON, object_id: str) -> None:
    """The origin confirmed the item is gone: withdraw it here and pass the Delete on."""
    async with ctx.write() as session:
        stored = await social.get_object(session, object_id)
        if stored is None or stored.deleted_at is not None:
            return  # withdrawn already (and passed on then)
        await withdraw_item(session, stored, send=None)
        tombstone = {"id": object_id, "type": "Tombstone"}
        await _pass_on(ctx, session, stored, relayed("Delete", change, tombstone), sender)
    log.info("linked item %s deleted at its origin", object_id)


def relayed(verb: str, change: JSON, obj: JSON) -> JSON:
    """The change as a community passes it on: its id and actor, and the object as its
    origin confirmed it (never the words a relay embedded)."""
    out: JSON = {"type": verb, "actor": actor_of(change), "to": [PUBLIC]}
    if isinstance(change.get("id"), str):
        out["id"] = change["id"]
    out["object"] = {k: v for k, v in obj.items() if k not in ("@context", "signature")}
    return out


async def _pass_on(
    ctx: InboundContext, session: AsyncSession, row: ObjectRow, change: JSON, sender: str
) -> None:
    """Announce ``change`` once to the followers of each community here that announced the
    item, never to the one it came from, its origin, nor the sender of the change."""
    for item in await store.announced_items(session, row.id):
        community = await queries.get_community_by_id(session, item.community_id)
        if community is None:
            continue
        announce = outbound.build_announce(ctx.urls, community, change)
        await outbound.send_to_followers(
            session,
            community,
            announce,
            object_id=row.ap_id,
            exclude_actors=frozenset({sender, item.via_actor, item.origin_group}),
        )
        log.info(
            "%s of %s announced",
            main_type(change),
            row.ap_id,
            extra={"community": community.slug, "activity_id": announce["id"]},
        )


async def _gone(ctx: InboundContext, sender: str, object_id: str) -> bool:
    """Whether the item's origin says it is gone: the Delete comes from its own server, or
    its URL answers 404/410 or a Tombstone."""
    if same_origin(object_id, sender):
        return True
    try:
        obj = await ctx.fetch_object(object_id, None)
    except RemoteStatusError as exc:
        return exc.status in GONE
    except FederationError as exc:
        log.info("Delete of %s not confirmed: %s", object_id, exc.reason)
        return False
    return has_type(obj, "Tombstone")
