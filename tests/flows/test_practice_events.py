"""People on Mobilizon (or any server) join a community's event: Join -> Accept and
the count rises; a full or closed event -> Reject; Leave and Undo(Join) take them out."""

from __future__ import annotations

from typing import Any

from tests.flows import mobilizon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Delivery, Person, RemoteServer
from tests.flows.test_practice_publish import first_page, published


def answers(verb: str, join: dict[str, Any]) -> Any:
    """A predicate: verified ``verb`` (Accept/Reject) answering the Join ``join``."""

    def check(got: list[Delivery]) -> list[Delivery]:
        return [
            d
            for d in got
            if d.ok
            and d.type == verb
            and isinstance(d.activity.get("object"), dict)
            and d.activity["object"].get("id") == join["id"]
        ]

    return check


async def schedule(copub: Copub, *extra: str) -> str:
    out = await copub.cli(
        "publish", "nightshift", "event", "--title", "Simulation workshop",
        "--content", "Hands-on.", "--start", "2031-05-06T14:00", "--timezone", "Europe/Paris",
        *extra,
    )  # fmt: skip
    return published(out)


async def join(remote: RemoteServer, person: Person, copub: Copub, event_id: str) -> Any:
    activity = mobilizon.join(person, event_id)
    status, answer = await remote.post(person, copub.inbox("nightshift"), activity)
    assert status == 202, answer
    return activity


async def participants(copub: Copub, event_id: str) -> tuple[int, list[Any]]:
    status, event = await copub.get(event_id)
    assert status == 200
    return await first_page(copub, event["attendees"])


async def count(copub: Copub, event_id: str) -> int:
    status, event = await copub.get(event_id)
    assert status == 200
    return int(event["participantCount"])


async def test_join_is_accepted_and_counted(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given an event open to all
    event_id = await schedule(copub)
    mona = remote.person("mona")
    # When mona (on Mobilizon) asks to join
    request = await join(remote, mona, copub, event_id)
    # Then the community answers Accept, embedding her Join, to her inbox
    [accept] = await remote.wait_for(answers("Accept", request))
    assert accept.path == mona.inbox_path
    assert accept.signer == copub.actor("nightshift")
    assert accept.activity["object"]["actor"] == mona.id
    assert accept.activity["object"]["object"] == event_id
    # And the event counts her and lists her
    assert await count(copub, event_id) == 1
    assert await participants(copub, event_id) == (1, [mona.id])
    # And a repeated Join (her server retried) is answered again but counted once
    again = await join(remote, mona, copub, event_id)
    await remote.wait_for(answers("Accept", again))
    assert await count(copub, event_id) == 1
    # And the coordinator sees who takes part
    out = await copub.cli("participants", "nightshift", event_id)
    assert out.splitlines() == [mona.id, "1 participants"]


async def test_full_event_rejects_the_next_join(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, community: str
) -> None:
    # Given an event with one place, taken by mona
    event_id = await schedule(copub, "--capacity", "1")
    mona, nils = remote.person("mona"), remote2.person("nils")
    await remote.wait_for(answers("Accept", await join(remote, mona, copub, event_id)))
    _status, event = await copub.get(event_id)
    assert (event["participantCount"], event["remainingAttendeeCapacity"]) == (1, 0)
    # When nils asks to join
    request = await join(remote2, nils, copub, event_id)
    # Then he gets Reject and the count stays
    [reject] = await remote2.wait_for(answers("Reject", request))
    assert reject.path == nils.inbox_path
    assert await participants(copub, event_id) == (1, [mona.id])
    # When mona leaves, the place is free again and nils gets in
    leave = mobilizon.leave(mona, event_id)
    assert (await remote.post(mona, copub.inbox("nightshift"), leave))[0] == 202
    await copub.processed(leave["id"])
    assert await count(copub, event_id) == 0
    second = await join(remote2, nils, copub, event_id)
    await remote2.wait_for(answers("Accept", second))
    assert await participants(copub, event_id) == (1, [nils.id])


@sqlite_only
async def test_undo_join_takes_the_participant_out(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    event_id = await schedule(copub)
    mona, otto = remote.person("mona"), remote.person("otto")
    first = await join(remote, mona, copub, event_id)
    second = await join(remote, otto, copub, event_id)
    await remote.wait_for(answers("Accept", second))
    await remote.wait_for(answers("Accept", first))
    assert await count(copub, event_id) == 2
    # Undo with the Join embedded
    undo = mobilizon.undo(mona, first)
    assert (await remote.post(mona, copub.inbox("nightshift"), undo))[0] == 202
    await copub.processed(undo["id"])
    assert await participants(copub, event_id) == (1, [otto.id])
    # Undo naming the Join by its id alone, to the community's inbox: otto leaves the
    # event and still follows the community
    await follow(remote, otto, copub, "nightshift")
    undo = mobilizon.undo(otto, second, embed=False)
    assert (await remote.post(otto, copub.inbox("nightshift"), undo))[0] == 202
    await copub.processed(undo["id"])
    assert await participants(copub, event_id) == (0, [])
    assert await copub.follower_state("nightshift", otto.id) == "accepted"


@sqlite_only
async def test_restricted_event_rejects_joins(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    event_id = await schedule(copub, "--join-mode", "restricted")
    mona = remote.person("mona")
    request = await join(remote, mona, copub, event_id)
    await remote.wait_for(answers("Reject", request))
    assert await count(copub, event_id) == 0
