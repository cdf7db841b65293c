"""A batch's fan-out written at its commit (actors/store/fanout.py): the same rows as
written at once (each activity in the outbox, one delivery per follower inbox, under its
own activity), visible to the transaction's own statements on either table before the
commit, and gone with a rollback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import outbound
from actors.community import Community
from actors.store import fanout, social
from actors.store.models import ActivityRow, DeliveryRow
from tests import factories
from tests.delivery.inboxes import add_follower

Sessions = async_sessionmaker[AsyncSession]
PEER = "https://peer.example"


def _announce(community: Community, n: int) -> dict[str, Any]:
    return {
        "id": f"https://copub.example/c/{community.slug}/activities/fan-{n}",
        "type": "Announce",
        "actor": f"https://copub.example/c/{community.slug}",
        "object": f"{PEER}/notes/{n}",
    }


async def _followed(sessions: Sessions) -> Community:
    community = await factories.create_community(sessions)
    await add_follower(sessions, community, f"{PEER}/u/a", f"{PEER}/u/a/inbox", f"{PEER}/inbox")
    await add_follower(sessions, community, f"{PEER}/u/b", f"{PEER}/u/b/inbox", f"{PEER}/inbox")
    await add_follower(
        sessions, community, "https://other.example/u/c", "https://other.example/u/c/inbox"
    )
    return community


async def _written(sessions: Sessions) -> dict[str, tuple[bool, list[str]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(ActivityRow.ap_id, ActivityRow.public, DeliveryRow.inbox)
            .outerjoin(DeliveryRow, DeliveryRow.activity_id == ActivityRow.id)
            .order_by(ActivityRow.id, DeliveryRow.inbox)
        )
        found: dict[str, tuple[bool, list[str]]] = {}
        for ap_id, public, inbox in rows:
            found.setdefault(ap_id, (public, []))[1].append(inbox)
        return found


async def test_deferred_fan_out_writes_what_writing_at_once_writes(sessions: Sessions) -> None:
    community = await _followed(sessions)
    first, second, third = (_announce(community, n) for n in (1, 2, 3))
    async with sessions.begin() as session:
        await outbound.send_to_followers(session, community, first, object_id=first["object"])
    async with sessions.begin() as session:
        fanout.defer(session)
        for activity in (second, third):
            sent = await outbound.send_to_followers(
                session, community, activity, object_id=activity["object"]
            )
            assert sent is None
        # the transaction's own statements see them
        count = select(func.count()).select_from(DeliveryRow)
        assert await session.scalar(count) == 6
        await social.withdraw_activities(session, third["object"])
    inboxes = ["https://other.example/u/c/inbox", f"{PEER}/inbox"]
    assert await _written(sessions) == {
        first["id"]: (True, inboxes),
        second["id"]: (True, inboxes),
        third["id"]: (False, inboxes),  # withdrawn in the same transaction
    }


async def test_each_deferred_activity_gets_the_deliveries_of_its_own_followers(
    sessions: Sessions,
) -> None:
    # Given two communities followed from different servers
    busy = await _followed(sessions)
    quiet = await factories.create_community(sessions, "quiet")
    await add_follower(sessions, quiet, "https://third.example/u/d", "https://third.example/u/d/in")
    # When a batch relays for both, in turns, and commits
    relays = [(c, _announce(c, n)) for n, c in enumerate((quiet, busy, quiet, busy), start=5)]
    async with sessions.begin() as session:
        fanout.defer(session)
        for community, activity in relays:
            await outbound.send_to_followers(session, community, activity, object_id="x")
    # Then each activity is delivered to its own community's followers
    by_community = {
        quiet.id: ["https://third.example/u/d/in"],
        busy.id: ["https://other.example/u/c/inbox", f"{PEER}/inbox"],
    }
    assert await _written(sessions) == {
        activity["id"]: (True, by_community[community.id]) for community, activity in relays
    }


async def test_a_rollback_drops_the_deferred_fan_out(sessions: Sessions) -> None:
    community = await _followed(sessions)
    activity = _announce(community, 4)

    async def rolled_back() -> None:
        async with sessions.begin() as session:
            fanout.defer(session)
            await outbound.send_to_followers(session, community, activity, object_id="x")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await rolled_back()
    assert await _written(sessions) == {}
