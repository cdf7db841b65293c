"""Who receives a community's activities, as its coordinators decide: approve or reject a
pending follow request (``Accept``/``Reject`` of the very Follow, to the follower's
inbox), remove an approved follower (``Reject`` of their accepted Follow), block an actor
or a domain (the followers it covers are removed) and lift a block.

One path for ``copub followers approve|reject|remove``, ``copub block`` and the console."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from actors import outbound
from actors.community import Community
from actors.errors import Invalid, NotFound
from actors.members import marks_members_only
from actors.store import social
from actors.store.db import AsyncSession
from actors.store.states import FollowerState
from actors.urls import Urls
from federation.vocab import JSON

ACTOR = "actor"
DOMAIN = "domain"
TARGET_MAX = 2048
REASON_MAX = 500
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?=[^:]{{1,253}}(:|$)){_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?")


class NoPendingRequest(NotFound):
    """No follow request of this actor waits for an answer."""


class NotAFollower(NotFound):
    """The actor is no approved follower of the community."""


class InvalidBlock(Invalid):
    """Neither an actor's URL nor a domain; the message says what to give."""


LINK_GETS_NOTHING = (
    "is a community that is not members-only: approved, it follows this members-only "
    "community but is sent nothing, and its server may fetch nothing"
)


async def decide(
    session: AsyncSession, urls: Urls, community: Community, actor: str, *, approve: bool
) -> str:
    """Approve (the follower is ``accepted`` and gets ``Accept``) or reject (the request
    is gone, the actor gets ``Reject``) ``actor``'s pending follow request. What the
    coordinator should know of an approval: "" or why it gives the follower nothing (a
    Group that is not members-only following a members-only community)."""
    row = await social.get_follower(session, community.id, actor)
    if row is None or row.state != FollowerState.PENDING:
        raise NoPendingRequest(f"no pending follow request from {actor}")
    follow = _their_follow(urls, community, actor, row.follow_activity_id)
    if approve:
        row.state = FollowerState.ACCEPTED
        reply = outbound.build_accept(urls, community, follow)
    else:
        await session.delete(row)
        reply = outbound.build_reject(urls, community, follow)
    await outbound.send_to_inbox(session, community, reply, row.inbox)
    if not (approve and community.members_only):
        return ""
    known = await social.get_remote_actor(session, actor)
    if known is None or known.actor_type != "Group":
        return ""
    if isinstance(known.ap_json, dict) and marks_members_only(known.ap_json):
        return ""
    return f"{actor} {LINK_GETS_NOTHING}"


def _their_follow(urls: Urls, community: Community, actor: str, follow_id: str) -> JSON:
    return {
        "id": follow_id,
        "type": "Follow",
        "actor": actor,
        "object": urls.community(community.slug),
    }


async def remove(session: AsyncSession, urls: Urls, community: Community, actor: str) -> None:
    """Remove ``actor``, an approved follower: the row goes (deliveries stop, and in a
    members-only community the fetch gate answers them and their server 404 from the next
    request) and they get a ``Reject`` of the Follow that was accepted, what Mastodon
    sends for "remove from followers" (its server then drops the follow and takes the
    community's posts out of their home feed; Lemmy drops the follow)."""
    row = await social.get_follower(session, community.id, actor)
    if row is None or row.state != FollowerState.ACCEPTED:
        raise NotAFollower(f"{actor} is no approved follower of {community.slug}")
    reject = outbound.build_reject(
        urls, community, _their_follow(urls, community, actor, row.follow_activity_id)
    )
    await session.delete(row)
    await outbound.send_to_inbox(session, community, reject, row.inbox)


@dataclass(frozen=True)
class Target:
    """What a block covers: ``kind`` is ``actor`` (``value`` its URL) or ``domain``."""

    kind: str
    value: str


def block_target(text: str) -> Target:
    """An actor's URL (``https://...``) or a domain (``example.org``, a leading ``@`` is
    dropped); ``InvalidBlock`` for anything else."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        try:
            parts = urlsplit(text)
            ok = bool(parts.hostname) and not parts.fragment
        except ValueError:
            ok = False
        if ok and len(text) <= TARGET_MAX and not any(c.isspace() for c in text):
            return Target(ACTOR, text)
    else:
        try:
            domain = text.lower().lstrip("@").encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        if _DOMAIN_RE.fullmatch(domain):
            return Target(DOMAIN, domain)
    raise InvalidBlock(
        "give an actor's URL (https://social.example/users/someone) or a domain (social.example)"
    )


@dataclass(frozen=True)
class Blocked:
    target: Target
    added: bool  # False: it was blocked already
    removed: list[str]  # the followers the block removed


async def block(
    session: AsyncSession, community_id: int | None, target: Target, reason: str = ""
) -> Blocked:
    """Block ``target`` in the community (server-wide for None), with a reason for the
    coordinators; the followers it covers are removed (blocked actors get Reject and no
    deliveries from then on)."""
    reason = " ".join(reason.split())[:REASON_MAX]
    added = await social.add_block(session, community_id, target.kind, target.value, reason)
    removed = await social.remove_blocked_followers(session, community_id)
    return Blocked(target, added, removed)


async def unblock(session: AsyncSession, community_id: int | None, target: Target) -> bool:
    """Lift the block; False if there was none."""
    return await social.remove_block(session, community_id, target.kind, target.value)
