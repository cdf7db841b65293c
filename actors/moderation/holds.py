"""Posts held for the coordinators: kept whole, not relayed, until one decides.

``approve`` relays a held post once: in its transaction the hold is marked approved, the
log gets its line and the activity is queued again for the inbox processor, which files
and relays it as any post (with the observers plugins gave the server, and the database's
uniqueness of the object: once, whoever approves it how often). ``reject`` keeps it from
followers for good, optionally telling the author with a ``Reject``; ``reject_all`` empties
the queue in one action (a spam wave)."""

from __future__ import annotations

import logging
from datetime import datetime

from actors import outbound
from actors.community import Community
from actors.errors import NotFound
from actors.moderation.modlog import RULES, Moderator, clean_reason, record
from actors.store import inbox_queue, social
from actors.store import moderation as store
from actors.store.db import AsyncSession
from actors.store.models_moderation import HeldPostRow, HoldState, ModAction
from actors.urls import Urls
from federation.clock import utcnow
from federation.vocab import JSON

log = logging.getLogger(__name__)


class NoSuchHold(NotFound):
    """No post with this number waits in the community's queue."""


async def hold(
    session: AsyncSession,
    community: Community,
    activity: JSON,
    obj: JSON,
    actor_id: str,
    reason: str,
) -> bool:
    """Hold ``actor_id``'s post ``obj`` (in ``activity``); False if it is held already."""
    row = HeldPostRow(
        community_id=community.id,
        actor_id=actor_id,
        object_ap_id=obj["id"],
        ap_activity={**activity, "object": obj},
        reason=clean_reason(reason),
    )
    if not await store.add_hold(session, row):
        return False
    await record(session, community, ModAction.HELD, obj["id"], RULES, reason)
    return True


async def is_approved(session: AsyncSession, community: Community, object_id: str) -> bool:
    """Whether a coordinator approved this held post (it is relayed without a verdict)."""
    row = await store.get_hold(session, community.id, object_id)
    return row is not None and row.state == HoldState.APPROVED


async def _pending(session: AsyncSession, community: Community, hold_id: int) -> HeldPostRow:
    row = await store.get_hold_by_id(session, community.id, hold_id)
    if row is None or row.state != HoldState.HELD:
        raise NoSuchHold(f"no post #{hold_id} waits in the queue of {community.slug}")
    return row


def _decide(row: HeldPostRow, state: HoldState, by: Moderator, when: datetime) -> None:
    row.state, row.decided_at, row.decided_by = state, when, by.name or by.role


async def approve(
    session: AsyncSession, community: Community, hold_id: int, by: Moderator
) -> HeldPostRow:
    """Approve held post ``hold_id``: it is relayed (once) by the inbox processor."""
    row = await _pending(session, community, hold_id)
    _decide(row, HoldState.APPROVED, by, utcnow())
    await record(session, community, ModAction.APPROVED, row.object_ap_id, by)
    await inbox_queue.enqueue_again(
        session, row.ap_activity, community.slug, f"approved {community.id} {row.object_ap_id}"
    )
    return row


async def reject(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    hold_id: int,
    by: Moderator,
    *,
    reason: str = "",
    tell_author: bool = False,
) -> HeldPostRow:
    """Reject held post ``hold_id``: never relayed. ``tell_author``: the author gets a
    ``Reject`` of the activity that brought it."""
    row = await _pending(session, community, hold_id)
    _decide(row, HoldState.REJECTED, by, utcnow())
    await record(session, community, ModAction.REJECTED, row.object_ap_id, by, reason)
    if tell_author:
        author = await social.get_remote_actor(session, row.actor_id)
        if author is not None and "id" in row.ap_activity:
            answer = outbound.build_accept_of(urls, community, row.ap_activity, "Reject")
            if reason:
                answer["summary"] = clean_reason(reason)
            await outbound.send_to_inbox(session, community, answer, author.inbox)
        else:
            log.info("no inbox known for %s: the rejection is not sent", row.actor_id)
    return row


async def reject_all(
    session: AsyncSession, community: Community, by: Moderator, *, reason: str = ""
) -> int:
    """Reject every post waiting in the queue, in one action; how many."""
    rows = await store.reject_held(session, community.id, by=by.name or by.role, when=utcnow())
    reason = clean_reason(reason)
    await store.add_modlog_many(
        session,
        [
            {
                "community_id": community.id,
                "action": ModAction.REJECTED,
                "target": row.object_ap_id,
                "reason": reason,
                "role": by.role,
                "moderator": by.name,
            }
            for row in rows
        ],
    )
    return len(rows)


async def withdrawn_by_author(session: AsyncSession, actor_id: str, object_id: str) -> int:
    """The author deleted a post still held: it leaves every queue (never to be
    approved); how many holds that ended."""
    return await store.end_holds_of(session, actor_id, object_id, when=utcnow())


async def queue(
    session: AsyncSession, community: Community, *, limit: int = 50, offset: int = 0
) -> list[HeldPostRow]:
    """The posts waiting, the oldest first."""
    return await store.list_holds(
        session, community.id, state=HoldState.HELD, limit=limit, offset=offset
    )
