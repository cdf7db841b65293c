"""What linked communities send: their stories, practices, events and relayed member posts.

Accepted shapes (copub, Lemmy, NodeBB, the Discourse plugin): ``Create`` from the Group,
``Announce(object id)``, ``Announce(Create(...))`` and ``Announce(Note|Page|...)``.

Each item is verified at its origin: an embedded copy is trusted only when it lives on the
signed sender's own server; otherwise it is fetched (signed GET) from its own server, which
must answer with exactly that object. It is stored once by object id, recorded once per
community (``link_items``) and, where the link's policy says ``announce``, announced once to
the community's followers, never to the community it came from nor its origin. An item
already recorded is neither stored nor announced again, so cycles of links end there.

An item that is not public is taken only from a Group whose actor document marks it
members-only (actors.members.marks_members_only), and only into communities here that
are members-only themselves: it stays behind their fetch gate (actors/web/members_gate.py)
and goes on only to their members (actors/store/members.py).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from actors import outbound
from actors.community import Community
from actors.content import ITEM_TYPES
from actors.html import plain_text, sanitize
from actors.inbound.context import InboundContext
from actors.items import Item, ItemKind, Owner, store_item
from actors.members import marks_members_only
from actors.store import links as store
from actors.store import queries, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_links import LinkItemRow, LinkPolicy, LinkRow
from actors.values import claim_from_object
from federation.errors import FederationError
from federation.intake import DEFAULT_LIMITS, bounded, date_problem, remote_time, safe_url
from federation.origins import same_origin
from federation.vocab import (
    JSON,
    PUBLIC_ALIASES,
    actor_of,
    get_id,
    has_type,
    ids,
    is_public,
    main_type,
)

log = logging.getLogger(__name__)

NOT_ANNOUNCED = frozenset({ItemKind.REPLY})  # replies travel with their thread, not as boosts


def item_kind(obj: JSON) -> ItemKind:
    """What a linked item is to a community: reply, event, practice, story (titled) or post."""
    if get_id(obj.get("inReplyTo")):
        return ItemKind.REPLY
    if has_type(obj, "Event"):
        return ItemKind.EVENT
    if has_type(obj, "Article"):
        return ItemKind.PRACTICE
    named = isinstance(obj.get("name"), str) and obj["name"].strip()
    return ItemKind.STORY if named else ItemKind.POST


def unwrap(activity: JSON) -> JSON | str | None:
    """The item an activity carries: the object of a Create, of an Announce, or of the
    Create an Announce wraps (embedded or by id)."""
    inner = activity.get("object")
    if has_type(activity, "Announce") and isinstance(inner, dict):
        if has_type(inner, "Create"):
            inner = inner.get("object")
        elif not has_type(inner, *ITEM_TYPES):
            return None  # Announce(Like), Announce(Follow), ...: nothing to store
    if isinstance(inner, dict | str) and get_id(inner):
        return inner
    return None


def authors(obj: JSON) -> list[str]:
    return ids(bounded(obj.get("attributedTo"), DEFAULT_LIMITS.max_list_items))


async def origin_group(session: AsyncSession, obj: JSON, sender: str) -> str:
    """The community an item belongs to: its ``audience``; else a Group we know among those
    it is addressed to or mentions (a member's post to a community); else the sender."""
    limits = DEFAULT_LIMITS
    for audience in bounded(obj.get("audience"), limits.max_audience):
        ident = safe_url(get_id(audience))
        if ident:
            return ident
    named = [get_id(v) for key in ("to", "cc") for v in bounded(obj.get(key), limits.max_audience)]
    tags = bounded(obj.get("tag"), limits.max_tags)
    named += [get_id(t.get("href")) for t in tags if isinstance(t, dict)]
    candidates = [i for i in dict.fromkeys(named) if i and i not in PUBLIC_ALIASES]
    known = await store.remote_actors(session, candidates)
    for ident in candidates:
        if ident in known and known[ident].actor_type == store.GROUP:
            return ident
    return sender


def public_item(obj: JSON, wrapper: JSON) -> bool:
    """Public by its own addressing; an object that carries none (the Discourse plugin's)
    is as public as the activity that brought it."""
    if "to" in obj or "cc" in obj:
        return is_public(obj)
    return is_public(wrapper)


def check_item(
    object_id: str, obj: JSON, wrapper: JSON, *, members_only: bool = False
) -> str | None:
    """Why ``obj`` cannot be taken as the linked item ``object_id``, or None;
    ``members_only``: it comes from a members-only Group (it need not be public)."""
    if get_id(obj) != object_id:
        return f"its origin answered with another object ({get_id(obj)})"
    if safe_url(object_id) is None:
        return "its id is not an http(s) URL"
    if not has_type(obj, *ITEM_TYPES):
        return f"a {main_type(obj)} is not an item"
    problem = date_problem(obj)
    if problem is not None:
        return problem
    if not any(same_origin(object_id, author) for author in authors(obj)):
        return "its author is not on its server"
    if not members_only and not public_item(obj, wrapper):
        return "it is not public"
    return None


async def verified_item(
    ctx: InboundContext,
    sender: str,
    item: JSON | str,
    wrapper: JSON,
    community: Community | None,
    *,
    members_only: bool = False,
) -> JSON | None:
    """The item as its origin has it, or None (logged) when the origin does not confirm it;
    ``members_only``: the sender is a members-only Group (the item need not be public)."""
    object_id = str(get_id(item))
    if isinstance(item, dict) and same_origin(object_id, sender):
        obj = item  # signed by its own server: the origin has spoken
    else:
        try:
            obj = await ctx.fetch_object(object_id, community)
        except FederationError as exc:
            log.info("%s from %s refused: its origin: %s", object_id, sender, exc.reason)
            return None
    reason = check_item(object_id, obj, wrapper, members_only=members_only)
    if reason is not None:
        log.info("%s from %s refused: %s", object_id, sender, reason)
        return None
    return obj


async def _needs(session: AsyncSession, community_id: int, row: ObjectRow | None) -> bool:
    """Whether a community has yet to receive an item (``row``: the item, if stored)."""
    if row is None:
        return True
    if row.community_id == community_id and row.kind != ItemKind.LINKED:
        return False  # its own item (come back), or a member's post it stored itself
    return not await store.has_item(session, community_id, row.id)


# what a reader sees of an item, and its version: copies equal in these are the same version
VERSION_KEYS = ("type", "name", "summary", "content", "contentMap", "updated", "sensitive",
                "startTime", "endTime", "location", "attachment", "valueCycle", "valueChanged",
                "valueFor", "valueAbout")  # fmt: skip


def version_of(obj: JSON) -> str:
    """A fingerprint of an item's version (its :data:`VERSION_KEYS`)."""
    return json.dumps([obj.get(key) for key in VERSION_KEYS], sort_keys=True, default=str)


def supersedes(obj: JSON, stored: JSON) -> bool:
    """Whether ``obj`` (the origin's copy) is a new version of the ``stored`` copy: it
    differs in what a reader sees or in its ``updated``, and is not older."""
    new, old = remote_time(obj.get("updated")), remote_time(stored.get("updated"))
    if new is not None and old is not None and new < old:
        return False
    return version_of(obj) != version_of(stored)


def linked_item(community_id: int, obj: JSON) -> Item:
    """An item of another community as it is stored here (its kind: ``linked``)."""
    name, summary = obj.get("name"), obj.get("summary")
    return Item(
        kind=ItemKind.LINKED,
        owner=Owner.remote(community_id, authors(obj)[0]),
        obj=obj,
        ap_type=(main_type(obj, ITEM_TYPES) or "Note")[:40],
        published=remote_time(obj.get("published")) or datetime.now(UTC),
        in_reply_to=get_id(obj.get("inReplyTo")),
        title=plain_text(name, 500) or None if isinstance(name, str) else None,
        content_html=sanitize(str(obj.get("content") or "")),
        summary=plain_text(summary, 2000) or None if isinstance(summary, str) else None,
        # a value-creation story of another copub: its claim, read through federation.intake
        value=None if get_id(obj.get("inReplyTo")) else claim_from_object(obj),
    )


async def receive_item(ctx: InboundContext, activity: JSON) -> bool:
    """Store, record and (by policy) announce the item ``activity`` carries, for each
    community here that links to its sender; False when none does."""
    sender = str(actor_of(activity))
    item = unwrap(activity)
    async with ctx.read() as session:
        links = await store.accepted_links_from(session, sender)
        if not links or item is None:
            if links:
                log.info("%s from %s carries no item", main_type(activity), sender)
            return bool(links)
        object_id = str(get_id(item))
        stored = await social.get_object(session, object_id)
        wanted: list[tuple[Community, LinkRow]] = []
        for link in links:
            community = await queries.get_community_by_id(session, link.community_id)
            if community is not None and await _needs(session, community.id, stored):
                wanted.append((community, link))
        from_members_only = bool(wanted) and await members_only_group(session, sender)
    if not wanted:
        return True  # already here: neither stored nor announced again
    if ctx.urls.is_local(object_id):  # another community of this server: as stored
        obj = stored.ap_json if stored is not None and stored.deleted_at is None else None
    else:
        obj = await verified_item(
            ctx, sender, item, activity, wanted[0][0], members_only=from_members_only
        )
    if obj is not None:
        # an item of a members-only community here, or one a members-only Group sent that
        # is not public, never crosses into a public community
        private = not public_item(obj, activity) or (
            stored is not None and stored.local and await _of_members_only(ctx, stored.community_id)
        )
        async with ctx.write() as session:
            for community, link in wanted:
                if private and not community.members_only:
                    log.info(
                        "%s from %s is not public: not taken into %s",
                        object_id,
                        sender,
                        community.slug,
                    )
                    continue
                await _record(ctx, session, community, link, obj, sender)
    return True


async def members_only_group(session: AsyncSession, actor_id: str) -> bool:
    """Whether ``actor_id`` is a Group we know whose actor document marks it members-only."""
    found = await store.remote_actors(session, [actor_id])
    row = found.get(actor_id)
    return row is not None and isinstance(row.ap_json, dict) and marks_members_only(row.ap_json)


async def _of_members_only(ctx: InboundContext, community_id: int | None) -> bool:
    if community_id is None:
        return False
    async with ctx.read() as session:
        origin = await queries.get_community_by_id(session, community_id)
    return origin is not None and origin.members_only


async def _record(
    ctx: InboundContext,
    session: AsyncSession,
    community: Community,
    link: LinkRow,
    obj: JSON,
    sender: str,
) -> None:
    row = await social.get_object(session, obj["id"])
    if not await _needs(session, community.id, row):
        return
    if row is None:
        row = await store_item(session, linked_item(community.id, obj), send=None)
    kind = item_kind(obj)
    group = await origin_group(session, obj, sender)
    item = LinkItemRow(
        community_id=community.id, object_id=row.id, kind=kind, via_actor=sender, origin_group=group
    )
    session.add(item)
    if link.policy == LinkPolicy.ANNOUNCE and kind not in NOT_ANNOUNCED:
        announce = outbound.build_announce(ctx.urls, community, obj["id"])
        await outbound.send_to_followers(
            session,
            community,
            announce,
            object_id=obj["id"],
            exclude_actors=frozenset({sender, group}),
        )
        item.announced = True
    await session.flush()
    log.info(
        "%s %s from %s via %s%s",
        kind,
        obj["id"],
        group,
        sender,
        " announced" if item.announced else "",
        extra={"community": community.slug},
    )
