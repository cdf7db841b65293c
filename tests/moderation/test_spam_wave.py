"""A spam wave does not reach the followers: it waits in the hold queue, one line in the
moderation log per post, and a coordinator rejects it all in one action, ``copub held
reject-all``. ``bench/bench_moderation.py`` measures the full-size wave against
``copub serve``."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from actors.moderation import holds
from actors.store import queries
from actors.store.models import DeliveryRow, InboxItemRow, ObjectRow
from actors.store.models_moderation import HeldPostRow, HoldState, ModAction, ModlogRow
from actors.store.states import InboxState
from federation.keys import Signer
from federation.vocab import JSON
from tests.flows.copub import Copub, wait_until
from tests.flows.remote import Person, RemoteServer

POSTS, SPAMMERS = 100, 20


async def holds_by_state(copub: Copub) -> dict[str, int]:
    async with copub.sessions() as session:
        rows = await session.execute(
            select(HeldPostRow.state, func.count()).group_by(HeldPostRow.state)
        )
        return {str(state): n for state, n in rows}


async def modlog(copub: Copub, action: ModAction) -> list[str]:
    """The log's targets for ``action``."""
    async with copub.sessions() as session:
        return list(
            await session.scalars(select(ModlogRow.target).where(ModlogRow.action == action))
        )


async def settled(copub: Copub, activity_ids: list[str]) -> dict[str, int] | None:
    """The inbox items' states once none of them is pending (None before)."""
    async with copub.sessions() as session:
        rows = await session.execute(
            select(InboxItemRow.state, func.count())
            .where(InboxItemRow.activity_id.in_(activity_ids))
            .group_by(InboxItemRow.state)
        )
        states = {str(state): n for state, n in rows}
    if sum(states.values()) < len(activity_ids) or InboxState.PENDING in states:
        return None
    return states


async def reject_all(copub: Copub, slug: str) -> int:
    """The coordinator's one action, ``copub held reject-all``; how many posts it
    rejected, as the database says."""
    before = (await holds_by_state(copub)).get(HoldState.REJECTED, 0)
    await copub.cli("held", "reject-all", slug, "--reason", "spam wave")
    return (await holds_by_state(copub)).get(HoldState.REJECTED, 0) - before


def signer_of(person: Person) -> Signer:
    return person.signer  # made (RSA-2048) the first time


async def send_wave(copub: Copub, remote: RemoteServer) -> list[JSON]:
    """``POSTS`` public notes mentioning the community from ``SPAMMERS`` new actors."""
    spammers = [remote.person(f"spam{i}") for i in range(SPAMMERS)]
    await asyncio.gather(*(asyncio.to_thread(signer_of, p) for p in spammers))  # their keys

    async def one(i: int) -> JSON:
        person = spammers[i % SPAMMERS]
        note = remote.note(person, f"Cheap pills, offer {i}", mention=copub.mention("nightshift"))
        return await remote.send_create(person, copub.shared_inbox, note)

    return list(await asyncio.gather(*(one(i) for i in range(POSTS))))


async def test_spam_wave_is_held_and_rejected_in_one_action(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice (on remote) follows the community, and 20 actors on remote2 do not
    # When they send 100 public posts mentioning the community
    creates = await send_wave(copub, remote2)
    ids = [c["id"] for c in creates]
    states = await wait_until(lambda: settled(copub, ids), what="the wave processed")
    assert states == {InboxState.DONE: POSTS}
    # Then every one is held, and none relayed: no Announce, no delivery, nothing stored
    assert await holds_by_state(copub) == {HoldState.HELD: POSTS}
    assert await copub.sent("Announce") == []
    assert await copub.count(select(func.count()).select_from(DeliveryRow)) == 1  # the Accept
    assert (
        await copub.count(select(func.count(ObjectRow.id)).where(ObjectRow.local.is_(False))) == 0
    )
    # And the moderation log has a 'held' line for each post
    notes = {c["object"]["id"] for c in creates}
    held_lines = await modlog(copub, ModAction.HELD)
    assert sorted(held_lines) == sorted(notes)
    # When a coordinator rejects them all in one action
    assert await reject_all(copub, "nightshift") == POSTS
    # Then the queue is empty, each rejection is logged, and still nothing was relayed
    assert await holds_by_state(copub) == {HoldState.REJECTED: POSTS}
    async with copub.sessions() as session:
        community = await queries.get_community(session, "nightshift")
        assert community is not None
        assert await holds.queue(session, community) == []
    assert sorted(await modlog(copub, ModAction.REJECTED)) == sorted(notes)
    assert await copub.sent("Announce") == []
    # And a second rejection finds nothing to reject
    assert await reject_all(copub, "nightshift") == 0
    assert len(await modlog(copub, ModAction.REJECTED)) == POSTS
    assert remote.of_type("Announce") == []
