"""Who takes part in a community's events: remote ``Join`` -> ``Accept`` or ``Reject``,
``Leave`` (or ``Undo(Join)``) -> gone. The Event's ``participantCount`` follows.

No ``Update`` of the event is sent when the count changes: each one would go to every
follower's server and Mastodon marks every Update as an edit (and notifies those who boosted
it), so a popular event would spam its audience. Peers that care (Mobilizon) fetch the event,
whose JSON carries the live count, and the ``attendees`` collection lists the participants;
the count on the wire is refreshed with the next edit of the event.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from actors import outbound
from actors.community import Community
from actors.event_json import with_participant_count
from actors.store import practice as store
from actors.store import social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls
from federation.vocab import JSON

log = logging.getLogger(__name__)


class JoinOutcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"  # a repeated Join: answered Accept again, nothing counted twice
    FULL = "full"
    CLOSED = "closed"  # the join mode is not free (restricted or invite only)
    BLOCKED = "blocked"


async def _recount(session: AsyncSession, row: ObjectRow) -> int:
    count = await store.count_participants(session, row.id)
    row.ap_json = with_participant_count(row.ap_json, count)
    return count


async def join(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    row: ObjectRow,
    join_activity: JSON,
    *,
    actor_id: str,
    inbox: str,
) -> JoinOutcome:
    """Decide a Join of the local event ``row`` and answer it (Accept or Reject)."""
    detail = await store.lock_event_detail(session, row.id)
    if await social.is_blocked(session, community.id, actor_id):
        outcome = JoinOutcome.BLOCKED
    elif await store.get_participant(session, row.id, actor_id) is not None:
        outcome = JoinOutcome.ALREADY
    elif detail is None or detail.join_mode != "free":
        outcome = JoinOutcome.CLOSED
    elif detail.capacity is not None and (
        await store.count_participants(session, row.id) >= detail.capacity
    ):
        outcome = JoinOutcome.FULL
    else:
        await store.add_participant(session, row.id, actor_id, join_activity["id"])
        await _recount(session, row)
        outcome = JoinOutcome.ACCEPTED
    verb = "Accept" if outcome in (JoinOutcome.ACCEPTED, JoinOutcome.ALREADY) else "Reject"
    answer = outbound.build_accept_of(urls, community, join_activity, verb)
    await outbound.send_to_inbox(session, community, answer, inbox)
    log.info(
        "Join of %s by %s: %s",
        row.ap_id,
        actor_id,
        outcome.value,
        extra={"community": community.slug, "activity_id": join_activity["id"]},
    )
    return outcome


async def leave(
    session: AsyncSession,
    actor_id: str,
    *,
    event: ObjectRow | None = None,
    join_activity_id: str | None = None,
) -> list[ObjectRow]:
    """Take ``actor_id`` out of ``event`` (or out of the event its Join was for); the
    events it left, their counts updated."""
    left = await store.remove_participant(
        session,
        event.id if event is not None else None,
        actor_id,
        join_activity_id=join_activity_id,
    )
    rows = []
    for object_id in left:
        row = event if event is not None else await session.get(ObjectRow, object_id)
        if row is not None:
            await _recount(session, row)
            rows.append(row)
            log.info("%s left %s", actor_id, row.ap_id)
    return rows
