"""Links between communities: a community follows a remote Group (``Follow``, answered
by ``Accept`` or ``Reject``), unfollows it (``Undo(Follow)``) and decides, per link, whether
what comes over it is also announced to its own followers (the policy).

Incoming links need nothing here: a Group that follows a community is a follower like any
other (subject to the community's approval), and shown as an incoming link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actors import outbound
from actors.community import Community
from actors.content import new_token
from actors.errors import Invalid
from actors.remote import Remote
from actors.store import links as store
from actors.store.db import AsyncSession
from actors.store.models import RemoteActorRow
from actors.store.models_links import LinkPolicy, LinkRow
from actors.store.states import LinkState
from actors.urls import Urls
from federation.clock import utcnow
from federation.errors import BadRequest
from federation.resolve import parse_handle, resolve_handle
from federation.vocab import JSON

log = logging.getLogger(__name__)

POLICIES = tuple(policy.value for policy in LinkPolicy)
DEFAULT_POLICY = LinkPolicy.NONE


class LinkError(Invalid):
    """What the coordinator asked for cannot be done (the message says why)."""


def is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def link_follow(urls: Urls, community: Community, link: LinkRow) -> JSON:
    """The Follow of a link (as sent, and as embedded in its Undo)."""
    return outbound.build_follow(urls, community, link.remote_actor_id, link.follow_activity_id)


def check_policy(policy: str) -> LinkPolicy:
    if policy not in POLICIES:
        raise LinkError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    return LinkPolicy(policy)


async def resolve_group(remote: Remote, community: Community, target: str) -> RemoteActorRow:
    """The Group ``target`` names (``@name@host`` through WebFinger, or its URL), fetched
    with a GET signed by the community."""
    urls = remote.urls
    try:
        actor_id = target if is_url(target) else await resolve_handle(remote.client, target)
    except BadRequest as exc:
        raise LinkError(str(exc)) from exc
    if actor_id == urls.community(community.slug):
        raise LinkError("a community cannot link to itself")
    actor = await remote.lookup_actor(actor_id, community)
    if actor.actor_type != "Group":
        raise LinkError(f"{actor_id} is a {actor.actor_type}, not a Group (a community)")
    return actor


@dataclass(frozen=True)
class LinkResult:
    link: LinkRow
    sent_follow: bool  # False: already linked, only the policy changed


async def link(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    group: RemoteActorRow,
    policy: str | None = None,
) -> LinkResult:
    """Follow ``group`` (again, when the last Follow was not accepted); the link is
    ``pending`` until the Group's Accept. ``policy``: None keeps an existing link's policy
    (a new link gets :data:`DEFAULT_POLICY`)."""
    chosen = check_policy(policy) if policy is not None else None
    row = await store.get_link(session, community.id, group.ap_id)
    inbox = group.inbox
    if row is not None and row.state == LinkState.ACCEPTED:
        if chosen is not None:
            row.policy = chosen
        return LinkResult(row, sent_follow=False)
    # each request is a new Follow (a repeated one for a pending link, too); an Accept of
    # an earlier one still matches by its embedded actor and object
    follow_id = urls.activity(community.slug, new_token())
    if row is None:
        row = LinkRow(community_id=community.id, remote_actor_id=group.ap_id)
        session.add(row)
    row.follow_activity_id = follow_id
    row.state = LinkState.PENDING
    row.policy = chosen or row.policy or DEFAULT_POLICY
    row.inbox = inbox
    row.updated_at = utcnow()
    await session.flush()
    follow = link_follow(urls, community, row)
    await outbound.send_to_inbox(session, community, follow, inbox)
    log.info(
        "%s follows %s (link %s)",
        community.slug,
        group.ap_id,
        row.state,
        extra={"community": community.slug, "activity_id": follow["id"]},
    )
    return LinkResult(row, sent_follow=True)


async def find_link(session: AsyncSession, community: Community, target: str) -> LinkRow | None:
    """The community's link to ``target`` (a URL, or a handle we already know), without
    asking the network."""
    if is_url(target):
        return await store.get_link(session, community.id, target)
    try:
        user, host = parse_handle(target)
    except BadRequest as exc:
        raise LinkError(str(exc)) from exc
    rows = await store.list_links(session, community.id)
    actors = await store.remote_actors(session, [r.remote_actor_id for r in rows])
    for row in rows:
        actor = actors.get(row.remote_actor_id)
        if actor is not None and (actor.handle or "").lower() == f"{user}@{host}".lower():
            return row
    return None


async def unlink(session: AsyncSession, urls: Urls, community: Community, row: LinkRow) -> None:
    """Stop following: ``Undo(Follow)`` to the Group, and the link is gone."""
    undo = outbound.build_undo(urls, community, link_follow(urls, community, row))
    await outbound.send_to_inbox(session, community, undo, row.inbox)
    await session.delete(row)
    log.info(
        "%s unlinked %s",
        community.slug,
        row.remote_actor_id,
        extra={"community": community.slug, "activity_id": undo["id"]},
    )


def set_policy(row: LinkRow, policy: str) -> None:
    row.policy = check_policy(policy)
    row.updated_at = utcnow()
