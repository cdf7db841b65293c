"""What communities send: ``build_<verb>`` makes the JSON, ``send_<verb>`` queues it.

Sending writes the activity and one delivery job per (shared) inbox in the caller's
transaction, so a crash never leaves an activity without its deliveries.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from actors.community import Community, community_to_group
from actors.content import new_token
from actors.members import members_addressed
from actors.store import fanout, jobs, members, social
from actors.store.db import AsyncSession
from actors.store.models import ActivityRow
from actors.urls import Urls
from federation.clock import as2_time
from federation.vocab import AS_CONTEXT, JSON, PUBLIC, actor_of, object_id_of


def _urls_of(activity: JSON, slug: str) -> Urls:
    """Our Urls, from the id of an activity the community built (``BASE/c/SLUG/a/TOKEN``,
    :func:`_base`)."""
    ident = str(activity.get("id") or "")
    base, found, _rest = ident.rpartition(f"/c/{slug}/")
    if not found:
        raise ValueError(f"{ident!r} is not an activity of {slug!r}")
    return Urls(base)


def _base(urls: Urls, community: Community, verb: str) -> JSON:
    return {
        "@context": AS_CONTEXT,
        "id": urls.activity(community.slug, new_token()),
        "type": verb,
        "actor": urls.community(community.slug),
    }


def clean_follow(follow: JSON) -> JSON:
    """The Follow as peers expect it back inside Accept/Reject: id, type, actor, object."""
    return {
        "id": follow["id"],
        "type": "Follow",
        "actor": actor_of(follow),
        "object": object_id_of(follow),
    }


def build_follow(urls: Urls, community: Community, target: str, follow_id: str) -> JSON:
    """The community follows another community (a link, actors/links.py)."""
    activity = _base(urls, community, "Follow")
    activity.update(id=follow_id, object=target, to=[target])
    return activity


def build_undo(urls: Urls, community: Community, inner: JSON) -> JSON:
    """``Undo`` embedding the activity it takes back (what Mastodon and Lemmy match on)."""
    activity = _base(urls, community, "Undo")
    activity["object"] = {k: v for k, v in inner.items() if k != "@context"}
    activity["to"] = inner.get("to", [])
    return activity


def build_accept(urls: Urls, community: Community, follow: JSON) -> JSON:
    activity = _base(urls, community, "Accept")
    activity["object"] = clean_follow(follow)
    activity["to"] = [actor_of(follow)]
    return activity


def build_reject(urls: Urls, community: Community, follow: JSON) -> JSON:
    activity = _base(urls, community, "Reject")
    activity["object"] = clean_follow(follow)
    activity["to"] = [actor_of(follow)]
    return activity


def build_accept_of(urls: Urls, community: Community, activity: JSON, verb: str) -> JSON:
    """Accept or Reject of any activity (a Join, say), embedding its id, type and actor."""
    response = _base(urls, community, verb)
    response["object"] = {
        "id": activity["id"],
        "type": activity["type"],
        "actor": actor_of(activity),
        "object": object_id_of(activity),
    }
    response["to"] = [actor_of(activity)]
    return response


def build_flag(urls: Urls, reported: list[str], reason: str, to: str) -> JSON:
    """A report to another server, sent by the server's moderation actor (a ``Service``
    with the server's key, as Lemmy wants the actor of a report), so the coordinator stays
    anonymous, as an instance actor's report does. ``reported``: the account, then its
    posts (Mastodon's ``object``); ``to``: the one community (or site) Lemmy dereferences;
    the reason in ``content`` (Mastodon, GoToSocial) and in ``summary`` (Lemmy, Mbin)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{urls.moderation()}/flags/{new_token()}",
        "type": "Flag",
        "actor": urls.moderation(),
        "object": list(reported),
        "content": reason,
        "summary": reason,
        "to": [to],
    }


def _public_audience(urls: Urls, community: Community) -> dict[str, Any]:
    return {"to": [PUBLIC], "cc": [urls.community_followers(community.slug)]}


def build_create(urls: Urls, community: Community, obj: JSON) -> JSON:
    activity = _base(urls, community, "Create")
    activity.update(_public_audience(urls, community))
    activity["published"] = obj.get("published")
    activity["object"] = {k: v for k, v in obj.items() if k != "@context"}
    activity["@context"] = obj.get("@context", AS_CONTEXT)
    return activity


def build_update(urls: Urls, community: Community, obj: JSON, when: datetime) -> JSON:
    activity = build_create(urls, community, obj)
    activity["type"] = "Update"
    activity["published"] = as2_time(when)
    activity["object"]["updated"] = as2_time(when)
    return activity


def build_update_actor(urls: Urls, community: Community, when: datetime) -> JSON:
    """The community's own actor document changed (name, summary, profile fields,
    closed): the Update carrying it whole, as Mastodon and Lemmy send for a profile."""
    group = community_to_group(community, urls)
    activity = _base(urls, community, "Update")
    activity["@context"] = group["@context"]
    activity.update(_public_audience(urls, community))
    activity["published"] = as2_time(when)
    activity["object"] = {k: v for k, v in group.items() if k != "@context"}
    activity["object"]["updated"] = as2_time(when)
    return activity


def build_delete(urls: Urls, community: Community, object_id: str, ap_type: str) -> JSON:
    activity = _base(urls, community, "Delete")
    activity.update(_public_audience(urls, community))
    activity["object"] = {"id": object_id, "type": "Tombstone", "formerType": ap_type}
    return activity


HIDDEN_AUDIENCE = ("bto", "bcc")  # never passed on (ActivityStreams 2.0, section 5.1)


def _without_hidden_audience(document: JSON) -> JSON:
    """``document`` and the object it embeds without ``bto``/``bcc`` (a copy if needed)."""
    inner = document.get("object")
    cleaned = {k: v for k, v in document.items() if k not in HIDDEN_AUDIENCE}
    if isinstance(inner, dict):
        cleaned["object"] = _without_hidden_audience(inner)
    return cleaned


def build_announce(urls: Urls, community: Community, obj: JSON | str) -> JSON:
    """FEP-1b12: the community shares an activity (embedded as it came, less its hidden
    audience, which is nobody else's to read) or an object (by id)."""
    activity = _base(urls, community, "Announce")
    activity.update(_public_audience(urls, community))
    activity["audience"] = urls.community(community.slug)
    activity["object"] = _without_hidden_audience(obj) if isinstance(obj, dict) else obj
    return activity


# -- moderation, in Lemmy's shapes (crates/apub/assets/lemmy/activities/): the server's
# moderation actor (a Service on the community's host: Lemmy takes a moderator's action
# from a Person, Service or Organization only, and one on the community's host as its
# instance's) acts for the coordinators, unnamed; addressed to the Public and the
# community, it travels to followers inside build_announce, as Lemmy's communities send it


def _moderation(urls: Urls, community: Community, verb: str, reason: str = "") -> JSON:
    activity = _base(urls, community, verb)
    activity["actor"] = urls.moderation()
    group = urls.community(community.slug)
    activity.update(to=[PUBLIC], cc=[group, urls.community_followers(community.slug)])
    activity["audience"] = group
    if reason:
        activity["summary"] = reason
    return activity


def build_remove_item(urls: Urls, community: Community, object_id: str, reason: str = "") -> JSON:
    """A coordinator removes an item from the community: Lemmy's moderator ``Delete`` (the
    object by id; ``summary``, the reason, is always there: Lemmy reads a Delete without
    one as its author's); its ``Undo`` (build_moderation_undo) restores it."""
    activity = _moderation(urls, community, "Delete")
    activity.update(object=object_id, summary=reason)
    return activity


def build_lock(urls: Urls, community: Community, object_id: str, reason: str = "") -> JSON:
    """A coordinator locks a thread (its first post): no more replies (Lemmy's ``Lock``)."""
    activity = _moderation(urls, community, "Lock", reason)
    activity["object"] = object_id
    return activity


def build_block_from_community(
    urls: Urls, community: Community, actor_id: str, reason: str = "", *, remove_data: bool = False
) -> JSON:
    """A ban from the community: Lemmy's ``Block`` with the community as ``target``
    (``removeData``: their posts are removed too)."""
    activity = _moderation(urls, community, "Block", reason)
    activity.update(object=actor_id, target=urls.community(community.slug))
    if remove_data:
        activity["removeData"] = True
    return activity


def build_collection_add(urls: Urls, community: Community, object_id: str, target: str) -> JSON:
    """``object_id`` joins the community's collection ``target`` (Lemmy's ``Add`` of a
    moderator to ``.../moderators``)."""
    activity = _moderation(urls, community, "Add")
    activity.update(object=object_id, target=target)
    return activity


def build_collection_remove(urls: Urls, community: Community, object_id: str, target: str) -> JSON:
    """``object_id`` leaves the community's collection ``target`` (Lemmy's ``Remove``)."""
    activity = _moderation(urls, community, "Remove")
    activity.update(object=object_id, target=target)
    return activity


def build_moderation_undo(urls: Urls, community: Community, inner: JSON) -> JSON:
    """``Undo`` of a moderation activity (a removal, a lock, a ban), addressed as it was."""
    activity = build_undo(urls, community, inner)
    activity.update(
        actor=urls.moderation(), cc=inner.get("cc", []), audience=urls.community(community.slug)
    )
    return activity


def announced(urls: Urls, community: Community, inner: JSON) -> JSON:
    """``inner`` (an activity of the community) announced to its followers, FEP-1b12."""
    return build_announce(urls, community, {k: v for k, v in inner.items() if k != "@context"})


async def send_to_followers(
    session: AsyncSession,
    community: Community,
    activity: JSON,
    *,
    object_id: str | None = None,
    exclude_inboxes: frozenset[str] = frozenset(),
    exclude_actors: frozenset[str] = frozenset(),
    public: bool = True,
    urls: Urls | None = None,
) -> ActivityRow | None:
    """``activity`` in the outbox (``public``) and queued for every follower's inbox. A
    members-only community's is addressed to its followers instead of the Public and goes
    to its approved members' inboxes only (actors/members.py). Its row, or None when the
    session defers its batch's fan-out to the commit (actors/store/fanout.py). An activity
    about an item a community kept for its members when it went public (or a reply in its
    thread, kept too from then on) goes as a members-only one, never to the outbox."""
    until = None  # the members of a kept item: followers up to this row
    if community.gated_items and object_id and await members.kept_thread(session, object_id):
        public, until = False, community.members_until
        community = replace(community, members_only=True)
    if community.members_only:
        activity = members_addressed(
            activity, urls or _urls_of(activity, community.slug), community.slug
        )
        found = await members.member_inboxes(
            session, community.id, exclude_actors=exclude_actors, until=until
        )
    else:
        found = await jobs.follower_inboxes(session, community.id, exclude_actors=exclude_actors)
    inboxes = [i for i in found if i not in exclude_inboxes]
    if fanout.deferring(session):
        fanout.add(
            session,
            community_id=community.id,
            ap_json=activity,
            object_ap_id=object_id,
            public=public,
            inboxes=inboxes,
        )
        return None
    row = await social.insert_activity(
        session,
        community_id=community.id,
        ap_json=activity,
        object_ap_id=object_id,
        public=public,
    )
    await jobs.enqueue_deliveries(session, row.id, community.id, inboxes)
    return row


async def record_in_outbox(
    session: AsyncSession, community: Community, activity: JSON, *, object_id: str
) -> ActivityRow:
    """The activity in the community's outbox, delivered to nobody (history, not news: a
    backfill). Its insert waits for the commit, so a long import batches them."""
    if community.members_only:
        activity = members_addressed(activity, _urls_of(activity, community.slug), community.slug)
    return await social.insert_activity(
        session, community_id=community.id, ap_json=activity, object_ap_id=object_id, flush=False
    )


async def send_to_inbox(
    session: AsyncSession, community: Community, activity: JSON, inbox: str
) -> ActivityRow:
    row = await social.insert_activity(
        session,
        community_id=community.id,
        ap_json=activity,
        object_ap_id=object_id_of(activity),
        public=False,
    )
    await jobs.enqueue_deliveries(session, row.id, community.id, [inbox])
    return row
