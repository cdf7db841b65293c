"""What members send is filed by kind: an Event from Mobilizon is an event with its
time and place, a post tagged #practice is a practice, anything else stays a post."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, RevisionRow
from tests.flows import mobilizon
from tests.flows.copub import Copub, follow, sqlite_only, start_copub
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_practice_publish import first_page
from tests.flows.test_relay import announces


async def stored(copub: Copub, ap_id: str) -> ObjectRow:
    await copub.processed(ap_id + "/activity")
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == ap_id))
    assert row is not None, f"{ap_id} was not stored"
    return row


async def test_mobilizon_event_is_filed_as_an_event(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol follows the community, and mona (a Mobilizon account) follows it too
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    mona = remote.person("mona")
    await follow(remote, mona, copub, "nightshift")
    # When mona's Mobilizon sends the community her public event, as Mobilizon sends it
    event = mobilizon.event(
        mona, start="2031-03-04T19:00:00+01:00", end="2031-03-04T21:00:00+01:00"
    )
    create = mobilizon.create(mona, event, also_to=(copub.actor("nightshift"),))
    status, answer = await remote.post(mona, copub.inbox("nightshift"), create)
    assert status == 202, answer
    # Then it is filed as an event, with its time, zone, place and online address
    row = await stored(copub, event["id"])
    assert (row.kind, row.ap_type, row.title) == ("event", "Event", "Night shift meetup")
    async with copub.sessions() as session:
        detail = await session.get(EventDetailRow, row.id)
    assert detail is not None
    assert detail.start_time.isoformat() == "2031-03-04T18:00:00+00:00"
    assert detail.end_time is not None
    assert detail.end_time.isoformat() == "2031-03-04T20:00:00+00:00"
    assert detail.timezone == "Europe/Paris"
    assert detail.location_name == "Salle des infirmières, 3 rue de l'Hôpital, 69003 Lyon, France"
    assert detail.online_url == "https://visio.example/room"
    # And the events collection lists it (by id: Mobilizon is its authority)
    status, group = await copub.get(copub.actor("nightshift"))
    assert await first_page(copub, group["events"]) == (1, [event["id"]])
    # And the followers get it shared, as any member's post
    await remote2.wait_for(announces(object_id=event["id"]))


@sqlite_only
async def test_event_update_moves_the_stored_time(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    mona = remote.person("mona")
    await follow(remote, mona, copub, "nightshift")
    event = mobilizon.event(mona)
    await remote.post(mona, copub.inbox("nightshift"), mobilizon.create(mona, event))
    row = await stored(copub, event["id"])
    # When Mobilizon sends the event rescheduled
    moved = {**event, "startTime": "2031-03-11T19:00:00+01:00", "endTime": None,
             "updated": "2031-02-02T10:00:00Z"}  # fmt: skip
    update = mobilizon.update(mona, moved)
    assert (await remote.post(mona, copub.inbox("nightshift"), update))[0] == 202
    await copub.processed(update["id"])
    async with copub.sessions() as session:
        detail = await session.get(EventDetailRow, row.id)
    assert detail is not None
    assert detail.start_time.isoformat() == "2031-03-11T18:00:00+00:00"
    assert detail.end_time is None


async def test_tagged_post_is_filed_as_a_practice(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # When alice posts a tip tagged #practice, and another post without the tag
    tip = remote.note(follower, "Label the syringe before drawing up. #practice",
                      mention=copub.mention("nightshift"))  # fmt: skip
    tip["tag"].append({"type": "Hashtag", "name": "#Practice", "href": "https://x.example/t"})
    chat = remote.note(follower, "Quiet night so far.", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.inbox("nightshift"), tip)
    await remote.send_create(follower, copub.inbox("nightshift"), chat)
    # Then the tip is a practice (with its first revision), the chat a post
    practice = await stored(copub, tip["id"])
    post = await stored(copub, chat["id"])
    assert (practice.kind, post.kind) == ("practice", "post")
    async with copub.sessions() as session:
        [revision] = await session.scalars(
            select(RevisionRow).where(RevisionRow.object_id == practice.id)
        )
    assert revision.editor == follower.id
    assert "Label the syringe" in (revision.source_markdown or "")
    _status, group = await copub.get(copub.actor("nightshift"))
    assert await first_page(copub, group["practices"]) == (1, [tip["id"]])


@sqlite_only
async def test_filing_tags_are_configurable(
    database_url: str, tmp_path: Path, remote: RemoteServer
) -> None:
    # Given a server whose [content] files #tip as a practice and #workshop as an event
    copub = await start_copub(
        database_url, tmp_path, content={"practice_tags": ["tip"], "event_tags": ["workshop"]}
    )
    try:
        await copub.create_community("nightshift")
        alice = remote.person("alice")
        await follow(remote, alice, copub, "nightshift")
        notes = {}
        for tag in ("tip", "workshop", "practice"):
            note = remote.note(alice, f"About #{tag}", mention=copub.mention("nightshift"))
            note["tag"].append({"type": "Hashtag", "name": f"#{tag}", "href": "https://x.example"})
            await remote.send_create(alice, copub.inbox("nightshift"), note)
            notes[tag] = note
        kinds = {tag: (await stored(copub, note["id"])).kind for tag, note in notes.items()}
        # Then each is filed by the configured tags; #practice is no longer one of them
        assert kinds == {"tip": "practice", "workshop": "event", "practice": "post"}
    finally:
        await copub.server.close()
    assert not copub.errors
