"""Coordinators' tools publish through the authoring API (ActivityPub C2S):
POST /c/{slug}/outbox with a bearer token; followers get exactly what the CLI would send."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from actors.store.models import ActivityRow, ObjectRow
from actors.store.models_practice import RevisionRow
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_practice_publish import first_page
from tests.flows.test_publish import about

AS2 = "application/activity+json"


async def token(copub: Copub, slug: str = "nightshift", label: str = "Scheduler") -> str:
    out = await copub.cli("token", "create", slug, "--label", label)
    secret = out.splitlines()[0].strip()
    assert secret.startswith("copub_")
    return secret


async def post(
    copub: Copub, body: Any, bearer: str | None, slug: str = "nightshift"
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    headers = {"Content-Type": AS2}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(copub.urls.community_outbox(slug), data=data, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None), response.headers


async def stored_count(copub: Copub) -> tuple[int, int]:
    objects = await copub.count(select(func.count()).select_from(ObjectRow))
    activities = await copub.count(
        select(func.count()).select_from(ActivityRow).where(ActivityRow.ap_type != "Accept")
    )
    return objects, activities


STORY = {"type": "Note", "name": "Handover at 7", "content": "What we *checked*."}
PRACTICE = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "type": "Create",
    "object": {
        "type": "Article",
        "name": "Two-person insulin check",
        "summary": "Two nurses, one dose.",
        "source": {"content": "Read the dose **aloud**.", "mediaType": "text/markdown"},
        "tag": [{"type": "Hashtag", "name": "#insulin"}, "safety"],
        "creativeWorkStatus": "emerging",
    },
}
EVENT = {
    "type": "Create",
    "object": {
        "type": "Event",
        "name": "Monthly case review",
        "content": "Bring one case.",
        "startTime": "2030-12-03T18:00",
        "endTime": "2030-12-03T20:00:00+01:00",
        "timezone": "Europe/Paris",
        "location": [
            {"type": "Place", "name": "Room 4",
             "address": {"type": "PostalAddress", "addressLocality": "Paris"}},
            {"type": "VirtualLocation", "url": "https://visio.example/review"},
        ],
        "maximumAttendeeCapacity": 20,
        "rrule": "FREQ=MONTHLY;BYDAY=1TU",
    },
}  # fmt: skip


async def test_api_publishes_each_kind_like_the_cli(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    secret = await token(copub)
    # When a tool posts a story (a bare Note), a practice and an event
    created = {}
    for body in (STORY, PRACTICE, EVENT):
        status, answer, headers = await post(copub, body, secret)
        assert status == 201, answer
        assert headers["Location"] == answer["id"]
        assert answer["id"].startswith(copub.actor("nightshift") + "/o/")
        created[answer["type"]] = answer["id"]
    # Then followers get a Create of each, shaped as the CLI's
    [note] = await remote.wait_for(about("Create", created["Note"]))
    assert "<em>checked</em>" in note.activity["object"]["content"]
    [article] = await remote.wait_for(about("Create", created["Article"]))
    assert article.activity["object"]["summary"].startswith("<p>Two nurses, one dose.</p>")
    assert [t["name"] for t in article.activity["object"]["tag"]] == ["#insulin", "#safety"]
    [event] = await remote.wait_for(about("Create", created["Event"]))
    obj = event.activity["object"]
    assert (obj["startTime"], obj["endTime"]) == (
        "2030-12-03T18:00:00+01:00", "2030-12-03T20:00:00+01:00",
    )  # fmt: skip
    assert obj["location"]["name"] == "Room 4"
    assert obj["attachment"][0]["href"] == "https://visio.example/review"
    assert obj["maximumAttendeeCapacity"] == 20
    # And the practice's first revision names the token's label
    async with copub.sessions() as session:
        [revision] = await session.scalars(select(RevisionRow))
    assert revision.editor == "Scheduler (API)"


async def test_api_updates_and_deletes(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    secret = await token(copub)
    status, practice, _ = await post(copub, PRACTICE, secret)
    assert status == 201
    status, event, _ = await post(copub, EVENT, secret)
    assert status == 201
    # When the practice is revised, with a note on the Update
    update = {
        "type": "Update",
        "summary": "Now established on all wards",
        "object": {"type": "Article", "id": practice["id"], "creativeWorkStatus": "established"},
    }
    status, answer, _ = await post(copub, update, secret)
    assert status == 200, answer
    assert answer["creativeWorkStatus"] == "established"
    [sent] = await remote.wait_for(about("Update", practice["id"]))
    assert "Established practice" in sent.activity["object"]["summary"]
    async with copub.sessions() as session:
        notes = list(
            await session.scalars(select(RevisionRow.change_note).order_by(RevisionRow.number))
        )
    assert notes == ["First version", "Now established on all wards"]
    # When the event moves and its rule is dropped
    move = {"type": "Update", "object": {"type": "Event", "id": event["id"],
            "startTime": "2030-12-10T18:30", "endTime": None, "rrule": None}}  # fmt: skip
    status, answer, _ = await post(copub, move, secret)
    assert status == 200, answer
    assert answer["startTime"] == "2030-12-10T18:30:00+01:00"
    assert "endTime" not in answer
    assert "rrule" not in answer
    assert answer["location"]["name"] == "Room 4"  # untouched fields stay
    # When the event is deleted
    status, answer, _ = await post(copub, {"type": "Delete", "object": event["id"]}, secret)
    assert (status, answer["type"]) == (200, "Tombstone")
    await remote.wait_for(about("Delete", event["id"]))
    status, group = await copub.get(copub.actor("nightshift"))
    assert await first_page(copub, group["events"]) == (0, [])
    # An Update that takes a practice for an event is 400, naming the type
    wrong = {"type": "Update", "object": {"type": "Event", "id": practice["id"], "name": "x"}}
    status, answer, _ = await post(copub, wrong, secret)
    assert (status, answer["field"]) == (400, "type")
    assert "is a practice, not an event" in answer["error"]
    # An Update or Delete of what is not there is 404
    status, answer, _ = await post(copub, {"type": "Delete", "object": event["id"]}, secret)
    assert (status, answer["field"]) == (404, "object")


@pytest.mark.parametrize(
    "bearer", [None, "", "copub_not-a-real-token", "Basic dXNlcjpwYXNz", "wrong-community"]
)
async def test_missing_or_bad_token_is_401_and_nothing_is_stored(
    copub: Copub, community: str, bearer: str | None
) -> None:
    if bearer == "wrong-community":
        await copub.create_community("clinic")
        bearer = await token(copub, "clinic")
    before = await stored_count(copub)
    status, answer, headers = await post(copub, STORY, bearer)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in answer
    assert await stored_count(copub) == before


@sqlite_only
async def test_revoked_token_stops_working(copub: Copub, community: str) -> None:
    secret = await token(copub)
    out = await copub.cli("token", "list", "nightshift")
    [line] = out.splitlines()
    token_id = line.split("\t")[0]
    assert "Scheduler" in line
    assert "never used" in line
    assert secret not in out
    assert (await post(copub, STORY, secret))[0] == 201
    assert "never used" not in await copub.cli("token", "list", "nightshift")
    assert (await copub.cli("token", "revoke", "nightshift", token_id)).strip() == (
        f"revoked token {token_id}"
    )
    assert (await post(copub, STORY, secret))[0] == 401


def event_with(**fields: Any) -> dict[str, Any]:
    return {"type": "Create", "object": {**EVENT["object"], **fields}}  # type: ignore[dict-item]


@sqlite_only
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b"{not json", "body", "not JSON"),
        ({"type": "Like", "object": "x"}, "type", "Create, Update, Delete"),
        ({"type": "Create", "object": {"type": "Video"}}, "type", "Note"),
        ({"type": "Note", "content": "no title"}, "name", "required"),
        ({"type": "Note", "name": "T", "content": 42}, "content", "string"),
        ({"type": "Note", "name": "T", "content": "   "}, "content", "empty"),
        ({"type": "Article", "name": "T", "content": "x", "creativeWorkStatus": "old"},
         "creativeWorkStatus", "emerging"),
        ({"type": "Article", "name": "T", "content": "x", "tag": ["two words"]}, "tag", "hashtag"),
        (event_with(startTime=None), "startTime", "required"),
        (event_with(startTime="soon"), "startTime", "not a date"),
        (event_with(endTime="2030-12-03T17:00"), "endTime", "end after it starts"),
        (event_with(timezone="Mars/Olympus"), "timezone", "IANA"),
        (event_with(maximumAttendeeCapacity="ten"), "maximumAttendeeCapacity", "whole number"),
        (event_with(maximumAttendeeCapacity=-1), "maximumAttendeeCapacity", "positive"),
        (event_with(joinMode="open"), "joinMode", "free"),
        (event_with(rrule="FREQ=HOURLY"), "rrule", "FREQ"),
        (event_with(location={"type": "VirtualLocation", "url": "ftp://x"}), "location.url",
         "http(s)"),
        ({"type": "Update", "object": {"type": "Event"}}, "object.id", "names the item"),
    ],
)  # fmt: skip
async def test_invalid_fields_are_400_with_the_field(
    copub: Copub, community: str, body: Any, field: str, message: str
) -> None:
    secret = await token(copub)
    before = await stored_count(copub)
    status, answer, _ = await post(copub, body, secret)
    assert status == 400, answer
    assert answer["field"] == field
    assert message in answer["error"]
    assert await stored_count(copub) == before


@sqlite_only
async def test_the_readme_examples_work(copub: Copub, community: str) -> None:
    """The curl examples of README.md's "Authoring API", posted as written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Authoring API") :]
    section = section[: section.index("\n### ", 5)]
    bodies = [
        b.replace("https://cop.example.org/c/nightshift", copub.actor("nightshift"))
        for b in re.findall(r"-d '(.*?)'", section, re.S)
    ]
    assert [json.loads(b)["type"] for b in bodies] == [
        "Note",
        "Create",
        "Create",
        "Update",
        "Delete",
    ]
    secret = await token(copub)
    practice = None
    for body in bodies:
        if practice is not None:
            body = body.replace(copub.actor("nightshift") + "/o/ID", practice)
        status, answer, _ = await post(copub, body.encode(), secret)
        assert status in (200, 201), (body, answer)
        if answer.get("type") == "Article" and practice is None:
            practice = answer["id"]
    assert practice is not None
