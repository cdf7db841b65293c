"""Members' posts (FEP-1b12): store them in their thread and relay them to followers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum

from actors import outbound
from actors.community import Community
from actors.content import ITEM_TYPES
from actors.inbound import filing
from actors.inbound.context import InboundContext
from actors.inbound.filing import FilingRules
from actors.items import revise_item, store_item, withdraw_item
from actors.moderation import holds, posting
from actors.store import queries, social, threads
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.threads.backfill import Conversation, backfill_reply
from actors.threads.filing import file_posts
from actors.threads.gather import parent_id
from federation.clock import utcnow
from federation.errors import FederationError
from federation.intake import date_problem, safe_url
from federation.origins import same_origin
from federation.vocab import (
    JSON,
    actor_of,
    get_id,
    has_type,
    is_public,
    main_type,
    object_id_of,
    types_of,
)

log = logging.getLogger(__name__)

NO_TAGS = FilingRules()
NOTHING = Conversation([], [])


async def _embedded_object(ctx: InboundContext, activity: JSON) -> JSON | None:
    """The activity's object, fetched from its origin when only its id was sent."""
    obj = activity.get("object")
    if isinstance(obj, dict):
        return obj
    object_id = get_id(obj)
    if object_id is None:
        return None
    try:
        return await ctx.fetch_object(object_id, None)
    except FederationError as exc:
        log.info("could not fetch %s: %s", object_id, exc.reason)
        return None


def _authentic(actor_id: str, obj: JSON) -> bool:
    """The poster wrote the object (or, as Mobilizon says of a group's event, organised it:
    ``actor``), and the object lives, at an http(s) URL, on the poster's server."""
    object_id = safe_url(get_id(obj))
    authors = {get_id(obj.get("attributedTo")) or actor_id, actor_of(obj)}
    if object_id is None or actor_id not in authors:
        return False
    return same_origin(object_id, actor_id)


def _refused_dates(ctx: InboundContext, activity: JSON, obj: JSON) -> bool:
    """Whether the activity or its object carries a date outside the sane years (logged)."""
    problem = date_problem(obj, ctx.limits) or date_problem(activity, ctx.limits)
    if problem is not None:
        log.info(
            "%s of %s refused: %s",
            main_type(activity),
            get_id(obj),
            problem,
            extra={"activity_id": activity.get("id")},
        )
    return problem is not None


async def on_create(ctx: InboundContext, activity: JSON, rules: FilingRules = NO_TAGS) -> None:
    actor_id = str(actor_of(activity))
    obj = await _embedded_object(ctx, activity)
    if obj is None or not has_type(obj, *ITEM_TYPES) or not _authentic(actor_id, obj):
        log.info("Create from %s not relayed: no authentic post in it", actor_id)
        return
    if not is_public(obj):
        # A direct message or a followers-only post must not be broadcast by the community.
        log.info("Create from %s not relayed: %s is not public", actor_id, obj["id"])
        return
    if _refused_dates(ctx, activity, obj):
        return
    conversation = await _conversation(ctx, activity, obj)
    held_in: Community | None = None
    async with ctx.write() as session:
        if await social.get_object(session, obj["id"]) is not None:
            return  # already stored (e.g. sent to two inboxes)
        for community in await ctx.target_communities(session, activity, obj):
            if await social.is_blocked(session, community.id, actor_id):
                continue
            await file_posts(session, community, conversation.above, observers=ctx.observers)
            parent = await ctx.parent_of(session, obj)
            filed = await _relay_or_hold(ctx, session, community, activity, obj, parent, rules)
            if filed == Filed.REFUSED:
                continue
            held_in = community if filed == Filed.HELD else None
            if filed == Filed.RELAYED:
                await file_posts(session, community, conversation.rest, observers=ctx.observers)
            break  # one community owns a thread; cross-posting is a later capability
    if held_in is not None:
        await _know_author(ctx, actor_id, held_in)


async def _conversation(ctx: InboundContext, activity: JSON, obj: JSON) -> Conversation:
    """For a reply whose parent is not here, the posts above it and the rest of its
    conversation, fetched (outside the write) on behalf of the community it is for."""
    if parent_id(obj) is None:
        return NOTHING
    async with ctx.read() as session:
        if await ctx.parent_of(session, obj) is not None:
            return NOTHING  # the usual case: one lookup
        if await social.get_object(session, obj["id"]) is not None:
            return NOTHING
        communities = await ctx.target_communities(session, activity, obj)
    if not communities:
        return NOTHING
    community = communities[0]

    async def fetch(url: str) -> JSON:
        return await ctx.fetch_object(url, community)

    async def known(ap_ids: Sequence[str]) -> set[str]:
        async with ctx.read() as session:
            return await threads.held_ids(session, ap_ids)

    return await backfill_reply(
        fetch, known, obj, is_local=ctx.urls.is_local, limits=ctx.thread_limits
    )


class Filed(StrEnum):
    """What became of a post sent to a community."""

    RELAYED = "relayed"
    HELD = "held"  # for the coordinators (actors.moderation.holds)
    REFUSED = "refused"  # banned, or a reply in a locked thread


async def _relay_or_hold(
    ctx: InboundContext,
    session: AsyncSession,
    community: Community,
    activity: JSON,
    obj: JSON,
    parent: ObjectRow | None,
    rules: FilingRules,
) -> Filed:
    """File the post in ``community`` and relay it, or hold it, as the community's rules
    say (a post a coordinator approved is relayed as it is); what became of it."""
    actor_id = str(actor_of(activity))
    if not await holds.is_approved(session, community, obj["id"]):
        verdict = await posting.decide(
            session, community, actor_id, obj, parent=parent, now=utcnow()
        )
        if verdict.refused:
            log.info("%s not relayed in %s: %s", obj["id"], community.slug, verdict.reason)
            return Filed.REFUSED
        if not verdict.relay:
            if await holds.hold(session, community, activity, obj, actor_id, verdict.reason):
                log.info("%s held in %s: %s", obj["id"], community.slug, verdict.reason)
            return Filed.HELD
    item, first = filing.filed_item(community, obj, actor_id, parent, rules, ctx.limits)
    await store_item(session, item, send=None, revision=first, observers=ctx.observers)
    announce = outbound.build_announce(ctx.urls, community, activity)
    await outbound.send_to_followers(session, community, announce, object_id=obj["id"])
    if obj.get("inReplyTo") is None:
        plain = outbound.build_announce(ctx.urls, community, obj["id"])
        await outbound.send_to_followers(session, community, plain, object_id=obj["id"])
    log.info(
        "relayed %s from %s",
        obj["id"],
        actor_id,
        extra={"community": community.slug, "activity_id": activity["id"]},
    )
    return Filed.RELAYED


async def _know_author(ctx: InboundContext, actor_id: str, community: Community) -> None:
    """The author of a held post, known (fetched if need be, after the commit): the
    coordinators see their name, and a rejection can reach their inbox."""
    try:
        await ctx.lookup_actor(actor_id, community)
    except FederationError as exc:
        log.info("the author of a held post, %s, is unknown: %s", actor_id, exc.reason)


async def on_update(ctx: InboundContext, activity: JSON, rules: FilingRules = NO_TAGS) -> None:
    actor_id = str(actor_of(activity))
    obj = activity.get("object")
    if not isinstance(obj, dict) or not _authentic(actor_id, obj):
        return
    if _refused_dates(ctx, activity, obj):
        return
    async with ctx.write() as session:
        row = await social.get_object(session, obj["id"])
        if row is None or row.local or row.attributed_to != actor_id or row.deleted_at:
            return
        item, revision = filing.refiled_item(row, obj, ctx.limits, rules)
        await revise_item(session, row, item, send=None, revision=revision, observers=ctx.observers)
        community = await queries.get_community_by_id(session, row.community_id)
        if community is not None:
            announce = outbound.build_announce(ctx.urls, community, activity)
            await outbound.send_to_followers(session, community, announce, object_id=row.ap_id)


async def on_delete(ctx: InboundContext, activity: JSON) -> None:
    actor_id = str(actor_of(activity))
    object_id = object_id_of(activity)
    if object_id is None:
        return
    async with ctx.write() as session:
        if object_id == actor_id:
            await social.remove_actor_everywhere(session, actor_id)
            return
        row = await social.get_object(session, object_id)
        if row is None:
            await holds.withdrawn_by_author(session, actor_id, object_id)
            return
        if row.local or row.deleted_at is not None:
            return
        by_moderator = await queries.is_moderator(session, row.community_id, actor_id)
        if row.attributed_to != actor_id and not by_moderator:
            log.info("Delete of %s by %s refused: not the author", object_id, actor_id)
            return
        await withdraw_item(session, row, send=None, observers=ctx.observers)
        community = await queries.get_community_by_id(session, row.community_id)
        if community is not None:
            announce = outbound.build_announce(ctx.urls, community, activity)
            await outbound.send_to_followers(session, community, announce, object_id=row.ap_id)


async def on_reaction(ctx: InboundContext, activity: JSON) -> None:
    """Like (and its Undo) of an item in a community is relayed as it came."""
    target = activity.get("object")
    if has_type(activity, "Undo") and isinstance(target, dict):
        target = target.get("object")
    object_id = get_id(target)
    if object_id is None:
        return
    async with ctx.read() as session:
        known = await social.get_object(session, object_id)
    if known is None or known.deleted_at is not None:
        return  # not an item of ours: nothing to relay
    async with ctx.write() as session:
        row = await social.get_object(session, object_id)
        if row is None or row.deleted_at is not None:
            return
        community = await queries.get_community_by_id(session, row.community_id)
        if community is None or await social.is_blocked(
            session, community.id, str(actor_of(activity))
        ):
            return
        announce = outbound.build_announce(ctx.urls, community, activity)
        await outbound.send_to_followers(session, community, announce, object_id=object_id)


def inner_types(activity: JSON) -> frozenset[str]:
    """The types of an activity's embedded object (empty when it names it by id alone)."""
    return types_of(activity.get("object"))
