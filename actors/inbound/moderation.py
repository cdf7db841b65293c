"""Moderation that other communities send: what a Group a community here links to decides
about its own items and moderators, and what this community's coordinators send from
their fediverse accounts.

From a linked Group (sent by it, or announced by it, as Lemmy and copub do):

- ``Delete`` of an item we hold from it, by the Group, one of its known moderators or an
  actor on the Group's own server (as Lemmy trusts its instance's admins): our
  copy is removed (restorable), and each community here that announced it tells its own
  followers with its own removal; its ``Undo`` restores it;
- ``Lock`` of such an item (and its ``Undo``): our copy is locked (unlocked);
- ``Add``/``Remove`` to the Group's ``moderators`` collection: whose removals we accept;
- ``Block`` with the Group as ``target`` (a ban there): logged, nothing more.

A ``Delete`` by anyone else is left to the author's path (``actors.inbound.links``, which
asks the item's origin). ``Remove`` or ``Lock`` of one of our community's posts is applied
when one of its coordinators sends it; from anyone else it is ignored and logged.
"""

from __future__ import annotations

import logging

from actors import outbound
from actors.community import Community
from actors.errors import CopubError
from actors.inbound.context import InboundContext
from actors.items import ItemKind, remove_item, restore_item
from actors.moderation import modlog, removals
from actors.moderation.modlog import Moderator
from actors.store import links as link_store
from actors.store import mod_actions, queries, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_links import LinkItemRow
from actors.store.models_moderation import ModAction
from federation.clock import utcnow
from federation.origins import same_origin
from federation.vocab import JSON, actor_of, get_id, has_type, main_type, object_id_of

log = logging.getLogger(__name__)

VERBS = ("Delete", "Lock", "Add", "Remove", "Block", "Undo")
UNDONE = ("Delete", "Lock", "Block")
LINKED_ROLE = "linked community"  # the role a linked Group's decisions have in our log


async def on_moderation_announce(ctx: InboundContext, activity: JSON) -> bool:
    """An ``Announce`` of a moderation activity by a Group a community here links to;
    False when it is none (the link handlers take it)."""
    inner = activity.get("object")
    if not isinstance(inner, dict) or not has_type(inner, *VERBS):
        return False
    return await moderate(ctx, str(actor_of(activity)), inner)


async def on_moderation(ctx: InboundContext, activity: JSON) -> None:
    """``Add``, ``Remove``, ``Lock`` or ``Block`` sent by its actor."""
    if not await moderate(ctx, str(actor_of(activity)), activity):
        log.info(
            "%s from %s ignored: about nothing of ours",
            main_type(activity),
            actor_of(activity),
            extra={"activity_id": activity.get("id")},
        )


async def moderate(ctx: InboundContext, sender: str, change: JSON) -> bool:
    """Apply ``change``, a moderation activity that ``sender`` signed (sent, or announced);
    False when it is not one this module takes."""
    verb = main_type(change, VERBS)
    if verb == "Undo":
        inner = change.get("object")
        if not isinstance(inner, dict) or not has_type(inner, *UNDONE):
            return False
        return await _undo(ctx, sender, change, inner)
    if verb in ("Add", "Remove") and await _moderators_change(ctx, sender, change, verb):
        return True
    if verb in ("Remove", "Lock") and await _from_our_coordinator(ctx, sender, change, verb):
        return True
    if verb in ("Delete", "Lock"):
        return await _group_decides(ctx, sender, change, verb)
    if verb == "Block":
        log.info(
            "%s banned %s from %s",
            actor_of(change),
            object_id_of(change),
            get_id(change.get("target")),
            extra={"activity_id": change.get("id")},
        )
        return True
    return False


# -- a linked Group's moderators -----------------------------------------------------------


def _reason(change: JSON) -> str:
    summary = change.get("summary")
    return modlog.clean_reason(summary if isinstance(summary, str) else "")


async def _linked(session: AsyncSession, group: str) -> bool:
    return bool(await link_store.accepted_links_from(session, group))


async def _moderators_collections(session: AsyncSession, group: str) -> set[str]:
    """Where the Group keeps its moderators: as its actor says (copub: ``moderators``,
    Lemmy: ``attributedTo``), else Lemmy's path."""
    found = {group.rstrip("/") + "/moderators"}
    known = await social.get_remote_actor(session, group)
    for key in ("moderators", "attributedTo"):
        value = get_id(known.ap_json.get(key)) if known is not None else None
        if value:
            found.add(value)
    return found


async def _moderators_change(ctx: InboundContext, sender: str, change: JSON, verb: str) -> bool:
    """``Add``/``Remove`` of a moderator of a linked Group, sent or announced by it."""
    target, person = get_id(change.get("target")), object_id_of(change)
    async with ctx.read() as session:
        if target is None or person is None or not await _linked(session, sender):
            return False
        if target not in await _moderators_collections(session, sender):
            return False
    async with ctx.write() as session:
        if verb == "Add":
            changed = await mod_actions.add_remote_moderator(session, sender, person)
        else:
            changed = await mod_actions.remove_remote_moderator(session, sender, person)
    log.info(
        "%s %s as moderator of %s%s",
        "added" if verb == "Add" else "removed",
        person,
        sender,
        "" if changed else " (no change)",
        extra={"activity_id": change.get("id")},
    )
    return True


async def _speaks_for(session: AsyncSession, group: str, actor: str) -> bool:
    """The Group, one of its moderators we know of, or an actor of the Group's own server
    (its admins: whom Lemmy trusts so too, ``verify_mod_action``)."""
    return (
        actor == group
        or same_origin(actor, group)
        or await mod_actions.is_remote_moderator(session, group, actor)
    )


# -- a linked Group's removals and locks ---------------------------------------------------


async def _from_group(session: AsyncSession, group: str, object_id: str | None) -> ObjectRow | None:
    """Our copy of ``object_id`` if it came to us from ``group`` (its community, or the
    link that brought it)."""
    row = await social.get_object(session, object_id) if object_id else None
    if row is None or row.kind != ItemKind.LINKED:
        return None
    items = await mod_actions.link_items_of(session, row.id)
    return row if any(group in (i.origin_group, i.via_actor) for i in items) else None


async def _group_decides(ctx: InboundContext, group: str, change: JSON, verb: str) -> bool:
    """A ``Delete`` or ``Lock`` from a linked Group, by it or one of its moderators."""
    object_id, decider = object_id_of(change), str(actor_of(change))
    async with ctx.read() as session:
        if not await _linked(session, group):
            return False
        row = await _from_group(session, group, object_id)
        if row is None:
            return verb == "Lock"  # a Delete of something else: the author's path
        if verb == "Delete" and decider == row.attributed_to and "summary" not in change:
            return False  # its author's own (Lemmy: no summary), confirmed at its origin
        if not await _speaks_for(session, group, decider):
            log.info(
                "%s of %s by %s ignored: neither %s nor one of its moderators",
                verb,
                object_id,
                decider,
                group,
                extra={"activity_id": change.get("id")},
            )
            return True
    by = Moderator(decider, LINKED_ROLE)
    reason = _reason(change)
    async with ctx.write() as session:
        row = await _from_group(session, group, object_id)
        if row is None:
            return True
        if verb == "Delete":
            await _remove_copy(ctx, session, row, group, by, reason)
        elif row.locked_at is None:
            row.locked_at = utcnow()
            log.info("%s locked %s", group, row.ap_id)
    return True


async def _held_by(session: AsyncSession, row: ObjectRow) -> list[tuple[Community, LinkItemRow]]:
    found = []
    for item in await mod_actions.link_items_of(session, row.id):
        community = await queries.get_community_by_id(session, item.community_id)
        if community is not None:
            found.append((community, item))
    return found


async def _pass_on(
    ctx: InboundContext,
    session: AsyncSession,
    community: Community,
    item: LinkItemRow,
    row: ObjectRow,
    activity: JSON,
    group: str,
) -> None:
    """``community`` announces ``activity`` (about ``row``, a linked item it announced) to
    its followers, but for those who hear of it from elsewhere: the Group itself, the link
    it came over."""
    await outbound.send_to_followers(
        session,
        community,
        outbound.announced(ctx.urls, community, activity),
        object_id=row.ap_id,
        exclude_actors=frozenset({group, item.via_actor, item.origin_group}),
    )


async def _remove_copy(
    ctx: InboundContext,
    session: AsyncSession,
    row: ObjectRow,
    group: str,
    by: Moderator,
    reason: str,
) -> None:
    """The Group removed the item: so do we; each community here that announced it tells
    its followers with a removal of its own (which copub servers linking to it apply)."""
    if not await remove_item(session, row, send=None, reason=reason, observers=ctx.observers):
        return
    for community, item in await _held_by(session, row):
        await modlog.record(session, community, ModAction.REMOVED, row.ap_id, by, reason)
        if item.announced:
            removal = outbound.build_remove_item(ctx.urls, community, row.ap_id, reason)
            await _pass_on(ctx, session, community, item, row, removal, group)
    log.info("%s removed %s (by %s)", group, row.ap_id, by.name)


async def _restore_copy(
    ctx: InboundContext, session: AsyncSession, row: ObjectRow, group: str, by: Moderator
) -> None:
    if not await restore_item(session, row, send=None, observers=ctx.observers):
        return
    for community, item in await _held_by(session, row):
        await modlog.record(session, community, ModAction.RESTORED, row.ap_id, by)
        moderation = ctx.urls.moderation()
        removal = await mod_actions.latest_sent(
            session, community.id, row.ap_id, "Delete", moderation
        )
        if item.announced and removal is not None:
            undo = outbound.build_moderation_undo(ctx.urls, community, removal)
            await _pass_on(ctx, session, community, item, row, undo, group)
    log.info("%s restored %s (by %s)", group, row.ap_id, by.name)


async def _undo(ctx: InboundContext, sender: str, change: JSON, inner: JSON) -> bool:
    """``Undo`` of a removal, a lock or a ban, from a linked Group."""
    object_id, decider = object_id_of(inner), str(actor_of(change))
    async with ctx.read() as session:
        if not await _linked(session, sender):
            return False
        if has_type(inner, "Block"):
            log.info("%s lifted the ban of %s", sender, object_id)
            return True
        row = await _from_group(session, sender, object_id)
        if row is None:
            return True
        if not await _speaks_for(session, sender, decider):
            log.info("Undo by %s of %s ignored: not a moderator of %s", decider, object_id, sender)
            return True
    async with ctx.write() as session:
        row = await _from_group(session, sender, object_id)
        if row is None:
            return True
        if has_type(inner, "Delete"):
            await _restore_copy(ctx, session, row, sender, Moderator(decider, LINKED_ROLE))
        elif row.locked_at is not None:
            row.locked_at = None
            log.info("%s unlocked %s", sender, row.ap_id)
    return True


# -- our coordinators, from their fediverse accounts -----------------------------------------


async def _from_our_coordinator(ctx: InboundContext, sender: str, change: JSON, verb: str) -> bool:
    """``Remove`` (Lemmy's older removal: the post, with the community as ``target``) or
    ``Lock`` of a post of one of our communities: applied when one of its coordinators sent
    it, else ignored and logged. False when it concerns no community of ours."""
    object_id = object_id_of(change)
    async with ctx.read() as session:
        row = await social.get_object(session, object_id) if object_id else None
        if row is None or row.kind == ItemKind.LINKED:  # a linked item: its Group decides
            return False
        community = await queries.get_community_by_id(session, row.community_id)
        if verb == "Remove" and community is not None:
            target = get_id(change.get("target"))
            community = community if target == ctx.urls.community(community.slug) else None
        if community is None:
            return False
        if sender != actor_of(change) or not await queries.is_moderator(
            session, community.id, sender
        ):
            log.info(
                "%s of %s by %s ignored: not a coordinator of %s",
                verb,
                object_id,
                actor_of(change),
                community.slug,
                extra={"activity_id": change.get("id"), "community": community.slug},
            )
            return True
    reason, by = _reason(change), Moderator(sender, "coordinator")
    try:
        async with ctx.write() as session:
            if verb == "Remove":
                await removals.remove_post(
                    session, ctx.urls, community, str(object_id), by=by, reason=reason,
                    observers=ctx.observers,
                )  # fmt: skip
            else:
                await removals.lock_thread(
                    session, ctx.urls, community, str(object_id), by=by, reason=reason
                )
    except CopubError as exc:
        log.info("%s of %s by %s not applied: %s", verb, object_id, sender, exc.message)
    return True
