"""The coordinator publishes stories, practices and events from the CLI; followers
get a Note, an Article and an Event; each kind has its collection; practices keep a history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, RevisionRow
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_publish import about

INSULIN = [
    "publish", "nightshift", "practice",
    "--title", "Double-check protocol for insulin",
    "--summary", "Two nurses read the dose aloud before every night dose.",
    "--content", "1. Read the order.\n2. Read it again, aloud.",
    "--tag", "insulin", "--tag", "#Safety",
    "--status", "emerging",
]  # fmt: skip

REVIEW = [
    "publish", "nightshift", "event",
    "--title", "Monthly case review",
    "--content", "Bring one case from the month.",
    "--start", "2030-12-03T18:00", "--end", "2030-12-03T20:00",
    "--timezone", "Europe/Paris",
    "--location-name", "Room 4", "--street", "12 rue de la Paix",
    "--locality", "Paris", "--postal-code", "75002", "--country", "FR",
    "--online-url", "https://visio.example/review",
    "--capacity", "12", "--rrule", "FREQ=MONTHLY;BYDAY=1TU",
]  # fmt: skip


def at_least(n: int, predicate: Any) -> Any:
    """A predicate: what ``predicate`` finds, once it finds ``n`` or more."""

    def check(got: list[Any]) -> list[Any]:
        found = predicate(got)
        return found if len(found) >= n else []

    return check


def published(output: str) -> str:
    assert output.startswith("published "), output
    return output.strip().removeprefix("published ")


async def row_of(copub: Copub, ap_id: str) -> ObjectRow:
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == ap_id))
    assert row is not None
    return row


async def first_page(copub: Copub, url: str) -> tuple[int, list[Any]]:
    status, root = await copub.get(url)
    assert status == 200, root
    status, page = await copub.get(root["first"])
    assert status == 200, page
    return root["totalItems"], page["orderedItems"]


async def test_practice_reaches_followers_as_an_article(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # When the coordinator publishes a practice with the CLI
    practice = published(await copub.cli(*INSULIN))
    # Then the follower's server gets Create(Article) with title, summary, status and tags
    [create] = await remote.wait_for(about("Create", practice))
    article = create.activity["object"]
    assert article["type"] == "Article"
    assert article["name"] == "Double-check protocol for insulin"
    assert "Two nurses read the dose aloud" in article["summary"]
    assert "Emerging practice" in article["summary"]
    assert article["creativeWorkStatus"] == "emerging"
    assert article["url"] == practice
    assert "Read it again, aloud." in article["content"]
    assert [t["name"] for t in article["tag"]] == ["#insulin", "#safety"]
    assert article["tag"][0]["href"] == copub.base_url + "/c/nightshift/tags/insulin"
    # And it is in the community's practices collection, linked from the actor
    status, group = await copub.get(copub.actor("nightshift"))
    assert status == 200
    total, items = await first_page(copub, group["practices"])
    assert total == 1
    assert items[0]["id"] == practice
    # And the tag URL lists it
    _total, tagged = await first_page(copub, article["tag"][0]["href"])
    assert [i["id"] for i in tagged] == [practice]


async def test_practice_edits_are_updates_with_a_history(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given a published practice
    practice = published(await copub.cli(*INSULIN))
    await remote.wait_for(about("Create", practice))
    # When it is revised twice, with notes
    out = await copub.cli(
        "edit", "nightshift", practice, "--content",
        "1. Read the order.\n2. Read it again, aloud.\n3. Sign both.",
        "--note", "Added the signature step",
    )  # fmt: skip
    assert out.strip() == f"updated {practice}"
    await copub.cli("edit", "nightshift", practice, "--status", "established")
    # Then followers get two Updates, the last one established
    updates = await remote.wait_for(at_least(2, about("Update", practice)))
    last = updates[-1].activity["object"]
    assert last["creativeWorkStatus"] == "established"
    assert "Established practice" in last["summary"]
    assert "Sign both." in last["content"]
    assert last["updated"] >= last["published"]
    # And the history keeps every version: who, why, and the text before and after
    row = await row_of(copub, practice)
    async with copub.sessions() as session:
        history = list(
            await session.scalars(
                select(RevisionRow)
                .where(RevisionRow.object_id == row.id)
                .order_by(RevisionRow.number)
            )
        )
    assert [r.number for r in history] == [1, 2, 3]
    assert [r.change_note for r in history] == [
        "First version",
        "Added the signature step",
        "Changed status: emerging -> established",
    ]
    assert "Sign both." not in (history[0].source_markdown or "")
    assert "Sign both." in (history[1].source_markdown or "")
    assert [r.status for r in history] == ["emerging", "emerging", "established"]
    assert all(r.editor.endswith("(command line)") for r in history)
    # And an edit that changes nothing sends nothing
    out = await copub.cli("edit", "nightshift", practice, "--status", "established")
    assert out.strip() == "nothing changed; nothing sent"
    assert len(await copub.sent("Update", practice)) == 2


async def test_event_reaches_followers_with_time_place_and_rule(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # When the coordinator schedules a monthly meeting
    event_id = published(await copub.cli(*REVIEW))
    # Then followers get Create(Event) with Mobilizon's fields and readable facts
    [create] = await remote.wait_for(about("Create", event_id))
    event = create.activity["object"]
    assert event["type"] == "Event"
    assert event["name"] == "Monthly case review"
    assert event["startTime"] == "2030-12-03T18:00:00+01:00"
    assert event["endTime"] == "2030-12-03T20:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    assert event["location"]["address"]["postalCode"] == "75002"
    assert event["attachment"][0]["href"] == "https://visio.example/review"
    assert event["maximumAttendeeCapacity"] == 12
    assert event["participantCount"] == 0
    assert event["joinMode"] == "free"
    assert event["rrule"] == "FREQ=MONTHLY;BYDAY=1TU"
    assert "When: Tuesday 3 December 2030, 18:00\u201320:00 (Europe/Paris" in event["summary"]
    assert "Where: Room 4, 12 rue de la Paix, 75002 Paris, FR" in event["summary"]
    assert "next meetings: Tue 7 Jan 2031, 18:00; Tue 4 Feb 2031, 18:00" in event["summary"]
    # And its details are stored for pages and the calendar feed
    row = await row_of(copub, event_id)
    async with copub.sessions() as session:
        detail = await session.get(EventDetailRow, row.id)
    assert detail is not None
    assert detail.start_time.isoformat() == "2030-12-03T17:00:00+00:00"
    assert (detail.timezone, detail.rrule, detail.capacity) == (
        "Europe/Paris", "FREQ=MONTHLY;BYDAY=1TU", 12,
    )  # fmt: skip
    assert detail.location_name == "Room 4, 12 rue de la Paix, 75002 Paris, FR"
    # And the events collection lists it
    _status, group = await copub.get(copub.actor("nightshift"))
    total, items = await first_page(copub, group["events"])
    assert (total, items[0]["id"]) == (1, event_id)


@sqlite_only
async def test_each_kind_has_its_collection_and_edit_refuses_foreign_options(
    copub: Copub, community: str
) -> None:
    story = await copub.publish("nightshift", "Insulin at 3 am", "What happened.")
    practice = published(await copub.cli(*INSULIN))
    event_id = published(await copub.cli(*REVIEW))
    _status, group = await copub.get(copub.actor("nightshift"))
    for key, expected in (("stories", story), ("practices", practice), ("events", event_id)):
        total, items = await first_page(copub, group[key])
        assert (total, [i["id"] for i in items]) == (1, [expected]), key
    # Each item's page (for browsers, at the same URL) shows it
    for item, title in ((story, "Insulin at 3 am"), (practice, "Double-check protocol"),
                        (event_id, "Monthly case review")):  # fmt: skip
        status, page = await copub.get(item, accept="text/html")
        assert status == 200
        assert title in page
    # An option that does not fit the item's kind is an error, and nothing is sent
    out = await copub.cli("edit", "nightshift", story, "--start", "2031-01-01T10:00", ok=False)
    assert "--start does not apply to a story" in out
    out = await copub.cli("edit", "nightshift", event_id, "--status", "retired", ok=False)
    assert "--status does not apply to an event" in out
    # A wrong value names its option
    out = await copub.cli("edit", "nightshift", event_id, "--timezone", "Mars/Olympus", ok=False)
    assert "--timezone: 'Mars/Olympus' is not an IANA time zone" in out
    out = await copub.cli("edit", "nightshift", event_id, "--end", "2030-12-03T17:00", ok=False)
    assert "--end: the event must end after it starts" in out
    assert await copub.sent("Update") == []
    # The event's capacity and rule can change; the participants stay
    out = await copub.cli("edit", "nightshift", event_id, "--capacity", "30", "--rrule", "")
    assert out.strip() == f"updated {event_id}"
    [update] = await copub.sent("Update", event_id)
    assert update["object"]["maximumAttendeeCapacity"] == 30
    assert "rrule" not in update["object"]
    # Deleting works for every kind
    for item in (story, practice, event_id):
        assert (await copub.cli("delete", "nightshift", item)).strip() == f"deleted {item}"
    total, _items = await first_page(copub, group["events"])
    assert total == 0
