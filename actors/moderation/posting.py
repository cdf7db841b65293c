"""Who a community relays without a hold: its posting policy, its filters, its rate limit.

A post sent to a community gets a :class:`Verdict`: relayed; held for the coordinators
(stored, not relayed: ``actors.moderation.holds``); or refused (a banned actor, a reply in
a locked thread). Coordinators are always relayed. In order:

1. banned (blocked in the community or on the server): refused;
2. a reply in a locked thread: refused;
3. a coordinator: relayed;
4. a filter matches (a word or a link's domain, the community's or the server's): held;
5. past the community's ``posts_per_hour`` for this actor: held;
6. the posting policy: ``anyone``; ``followers`` (accepted ones); ``members`` (followers
   with a post relayed before); ``coordinators`` (everyone else is held);
7. ``hold_first_posts``: the actor's first post in the community is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.community import Community, PostingPolicy
from actors.html import plain_text
from actors.moderation.filters import filters_for, first_match
from actors.store import moderation as store
from actors.store import queries, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.states import FollowerState
from federation.vocab import JSON

HOUR = timedelta(hours=1)
TEXT_FIELDS = ("name", "summary", "content")


@dataclass(frozen=True)
class Verdict:
    """``relay``; else held (``refused`` False) or refused, ``reason`` saying why."""

    relay: bool
    reason: str = ""
    refused: bool = False


RELAY = Verdict(relay=True)


def _held(reason: str) -> Verdict:
    return Verdict(relay=False, reason=reason)


def _refused(reason: str) -> Verdict:
    return Verdict(relay=False, reason=reason, refused=True)


async def thread_locked(session: AsyncSession, parent: ObjectRow | None) -> bool:
    """Whether a reply to ``parent`` would land in a locked thread (the parent or its
    thread's first post locked)."""
    if parent is None:
        return False
    if parent.locked_at is not None:
        return True
    if parent.thread_root is None or parent.thread_root == parent.ap_id:
        return False
    root = await social.get_object(session, parent.thread_root)
    return root is not None and root.locked_at is not None


def texts(obj: JSON) -> tuple[str, str]:
    """The object's words (plain) and its markup (for links)."""
    html = " ".join(v for k in TEXT_FIELDS if isinstance(v := obj.get(k), str))
    return plain_text(html), html


async def _policy(
    session: AsyncSession, community: Community, actor_id: str, first_post: bool
) -> Verdict:
    policy = community.posting_policy
    if policy == PostingPolicy.ANYONE:
        return RELAY
    if policy == PostingPolicy.COORDINATORS:
        return _held("only coordinators post without review")
    follower = await social.get_follower(session, community.id, actor_id)
    if follower is None or follower.state != FollowerState.ACCEPTED:
        return _held("not a follower of the community")
    if policy == PostingPolicy.MEMBERS and first_post:
        return _held("a follower's first post (members post without review)")
    return RELAY


async def decide(
    session: AsyncSession,
    community: Community,
    actor_id: str,
    obj: JSON,
    *,
    parent: ObjectRow | None,
    now: datetime,
) -> Verdict:
    """The verdict on ``actor_id``'s post ``obj`` (a reply to ``parent``, if any)."""
    if await social.is_blocked(session, community.id, actor_id):
        return _refused("banned from the community")
    if await thread_locked(session, parent):
        return _refused("the thread is locked")
    if await queries.is_moderator(session, community.id, actor_id):
        return RELAY
    text, html = texts(obj)
    matched = first_match(await filters_for(session, community.id), text, html)
    if matched is not None:
        scope = "server" if matched.server_wide else "community"
        return _held(f"{scope} filter {matched}")
    limit = community.posts_per_hour
    if (
        limit > 0
        and await store.relayed_since(session, community.id, actor_id, now - HOUR) >= limit
    ):
        return _held(f"more than {limit} posts in an hour")
    first_post = not await store.has_relayed_post(session, community.id, actor_id)
    verdict = await _policy(session, community, actor_id, first_post)
    if verdict.relay and community.hold_first_posts and first_post:
        return _held("a first post in the community")
    return verdict
