"""The Write pages: a story, a practice or an event written in the console reaches the
followers exactly as ``copub publish`` sends it (the same ``actors.publishing``); a form
with a wrong field comes back with what was typed and the error next to the field, and
nothing written; the Markdown preview is the public pages' sanitizer; an edit of a
practice keeps its note in the history; a deletion asks first, then sends Delete."""

from __future__ import annotations

import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.settings import Settings
from actors.store.models import ActivityRow, DeliveryRow, ObjectRow
from actors.store.models_practice import EventDetailRow, RevisionRow
from tests import factories
from tests.console.helpers import Person, audit_actions, coordinator
from tests.flows.copub import run_cli
from tests.pages.builders import actor_url, add_follower

Sessions = async_sessionmaker[AsyncSession]
FOLLOWER = actor_url("bea")
INBOX = FOLLOWER + "/inbox"
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
WRITE = "/console/c/nightshift/write"
EVENT = {
    "title": "Monthly case review", "markdown": "Bring **one** case.",
    "start": "2027-01-19T18:00", "end": "2027-01-19T19:30", "timezone": "Europe/Paris",
    "location_name": "Room 4", "street": "", "locality": "Lyon", "postal_code": "",
    "country": "", "online_url": "https://meet.example/review", "capacity": "12",
    "join_mode": "free", "repeat": "monthly_weekday", "rrule": "",
}  # fmt: skip


async def community_with_follower(db: Sessions) -> Community:
    nightshift = await factories.create_community(db, "nightshift")
    await add_follower(db, nightshift, FOLLOWER)
    return nightshift


async def sent(db: Sessions) -> list[tuple[str, dict[str, Any]]]:
    """(inbox, activity) of every queued delivery, oldest first."""
    async with db() as session:
        rows = await session.execute(
            select(DeliveryRow.inbox, ActivityRow.ap_json)
            .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
            .order_by(DeliveryRow.id)
        )
        return [(inbox, activity) for inbox, activity in rows]


def shape(activity: dict[str, Any]) -> Any:
    """The activity without what differs between two publications (ids, times)."""
    text = json.dumps(activity)
    text = text.replace(activity["id"], "ACTIVITY").replace(activity["object"]["id"], "OBJECT")
    return json.loads(TIME_RE.sub("TIME", text))


async def count(db: Sessions, model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def nothing_written(db: Sessions) -> None:
    assert await count(db, ObjectRow) == await count(db, ActivityRow) == 0
    assert await count(db, DeliveryRow) == 0
    assert not [a for _who, a in await audit_actions(db) if a.endswith((".publish", ".edit"))]


async def only_item(db: Sessions) -> ObjectRow:
    async with db() as session:
        [row] = await session.scalars(select(ObjectRow).where(ObjectRow.deleted_at.is_(None)))
        return row


async def alice_of(console: TestClient[Any, Any], settings: Settings, db: Sessions) -> Person:
    nightshift = await community_with_follower(db)
    return await coordinator(console, settings, db, nightshift.id)


async def publish(alice: Person, kind: str, values: dict[str, str]) -> Any:
    await alice.get(f"{WRITE}/{kind}")
    return await alice.post(f"{WRITE}/{kind}", values)


# -- publishing -------------------------------------------------------------------------------


async def test_a_story_reaches_the_followers_as_from_the_cli(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    page = await publish(alice, "story", {"title": "Night handover", "markdown": "We *checked*."})
    assert page.status == 200
    assert page.url == WRITE + "?done=published"
    assert "Published" in page.text
    assert "Night handover" in page.text
    await run_cli(config_file, "publish", "nightshift", "story", "--title", "Night handover",
                  "--content", "We *checked*.")  # fmt: skip
    [(inbox, from_console), (cli_inbox, from_cli)] = await sent(db)
    assert inbox == cli_inbox == INBOX
    assert from_console["type"] == "Create"
    assert from_console["object"]["type"] == "Note"
    assert shape(from_console) == shape(from_cli)
    assert ("alice", "story.publish") in await audit_actions(db)


async def test_a_practice_is_published_with_its_first_revision(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    values = {"title": "Double-check insulin", "summary": "Two nurses read the dose.",
              "markdown": "1. Read\n2. Read again", "tags": "insulin, #Safety",
              "status": "established", "note": ""}  # fmt: skip
    page = await publish(alice, "practice", values)
    assert page.status == 200
    assert page.url == WRITE + "?done=published"
    await run_cli(config_file, "publish", "nightshift", "practice", "--title",
                  "Double-check insulin", "--summary", "Two nurses read the dose.", "--content",
                  "1. Read\n2. Read again", "--tag", "insulin", "--tag", "safety", "--status",
                  "established")  # fmt: skip
    [(inbox, from_console), (_, from_cli)] = await sent(db)
    assert inbox == INBOX
    assert shape(from_console) == shape(from_cli)
    assert [t["name"] for t in from_console["object"]["tag"]] == ["#insulin", "#safety"]
    async with db() as session:
        [revision, _cli] = await session.scalars(select(RevisionRow).order_by(RevisionRow.id))
    assert (revision.editor, revision.change_note) == ("alice (console)", "First version")


async def test_an_event_in_local_time_with_a_repetition_in_words(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    form = await alice.get(f"{WRITE}/event")
    assert 'type="datetime-local"' in form.text
    assert '<option value="Europe/Paris"' in form.text
    page = await alice.post(f"{WRITE}/event", EVENT)
    assert page.status == 200
    assert page.url == WRITE + "?done=published"
    await run_cli(config_file, "publish", "nightshift", "event", "--title",
                  "Monthly case review", "--content", "Bring **one** case.", "--start",
                  "2027-01-19T18:00", "--end", "2027-01-19T19:30", "--timezone", "Europe/Paris",
                  "--location-name", "Room 4", "--locality", "Lyon", "--online-url",
                  "https://meet.example/review", "--capacity", "12", "--join-mode", "free",
                  "--rrule", "FREQ=MONTHLY;BYDAY=3TU")  # fmt: skip
    [(inbox, from_console), (_, from_cli)] = await sent(db)
    assert inbox == INBOX
    assert shape(from_console) == shape(from_cli)
    event = from_console["object"]
    assert event["startTime"] == "2027-01-19T18:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    async with db() as session:
        details = list(await session.scalars(select(EventDetailRow)))
    assert {d.rrule for d in details} == {"FREQ=MONTHLY;BYDAY=3TU"}
    assert {d.capacity for d in details} == {12}

    ref = from_console["object"]["id"].rsplit("/", 1)[-1]
    edit = await alice.get(f"/console/c/nightshift/items/{ref}/edit")
    assert '<option value="monthly_weekday" selected>Every month on the third Tuesday' in edit.text
    assert "Repeats: Every month on the third Tuesday." in edit.text
    assert 'value="2027-01-19T18:00"' in edit.text
    assert 'value="https://meet.example/review"' in edit.text


async def test_a_rule_and_a_zone_offered_by_no_choice_are_kept(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    out = await run_cli(config_file, "publish", "nightshift", "event", "--title", "Drop-in",
                        "--start", "2027-01-18T12:00", "--timezone", "Japan", "--rrule",
                        "FREQ=WEEKLY;BYDAY=MO,WE")  # fmt: skip
    ref = out.strip().rsplit("/", 1)[-1]
    edit = await alice.get(f"/console/c/nightshift/items/{ref}/edit")
    assert '<option value="custom" selected>' in edit.text
    assert 'value="FREQ=WEEKLY;BYDAY=MO,WE"' in edit.text
    assert "Repeats: Every week on Monday and Wednesday." in edit.text
    assert '<option value="Japan" selected>' in edit.text  # a zone not offered is kept


# -- wrong fields --------------------------------------------------------------------------------


async def test_a_wrong_field_comes_back_with_the_values_and_nothing_written(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    alice = await alice_of(console, settings, db)
    page = await publish(alice, "story", {"title": "  ", "markdown": "Kept *text*"})
    assert page.status == 400
    assert '<p class="error" id="f-title-error">a title is required</p>' in page.text
    assert 'aria-invalid="true"' in page.text
    assert ">Kept *text*</textarea>" in page.text
    await nothing_written(db)


async def test_an_online_link_or_a_time_that_is_wrong_is_refused(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    alice = await alice_of(console, settings, db)
    cases = [
        ("online_url", "javascript:alert(1)", "is not an http(s) URL"),
        ("online_url", "https://meet.example/a b", "is not an http(s) URL"),
        ("start", "2027-02-30T18:00", "is not a date and time"),
        ("start", "1200-01-01T10:00", "outside the years"),  # refused by the publishing path
        ("end", "2027-01-19T17:00", "must end after it starts"),
        ("timezone", "Europe/Atlantis", "is not an IANA time zone"),
        ("capacity", "twelve", "whole number"),
        ("rrule", "FREQ=SECONDLY", ""),
    ]
    for name, value, message in cases:
        values = {**EVENT, name: value}
        if name == "rrule":
            values["repeat"] = "custom"
        page = await publish(alice, "event", values)
        assert page.status == 400, (name, value)
        error = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', page.text)
        assert error, (name, value, page.text[-3000:])
        assert message in error.group(1), (name, value, page.text[-3000:])
        assert f'value="{value}"' in page.text, (name, value)
        assert 'value="Room 4"' in page.text  # the other fields are kept too
    await nothing_written(db)


# -- preview ---------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _a in self.found):
            self.found.append((f"/{tag}", []))


def tags_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The elements an HTML fragment opens, with their attributes."""
    parser = _Tags()
    parser.feed(html)
    return parser.found


async def test_the_preview_is_sanitized_as_the_public_pages(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    alice = await alice_of(console, settings, db)
    await alice.get(f"{WRITE}/story")
    text = "**bold** <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=y>"
    page = await alice.post("/console/c/nightshift/preview", {"markdown": text}, csrf=None,
                            headers={"X-CSRF-Token": alice.csrf})  # fmt: skip
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<strong>bold</strong>" in page.text
    assert tags_of(page.text) == [("p", []), ("strong", [])]  # the rest is text
    refused = await alice.post("/console/c/nightshift/preview", {"markdown": text}, csrf=None)
    assert refused.status == 403

    # without the script: the Preview button brings the form back with the preview
    page = await alice.post(f"{WRITE}/story", {"title": "T", "markdown": text, "action": "preview"})
    assert page.status == 200
    shown = page.text.split('id="f-preview"', 1)[1].split(">", 1)[1].split("</div>", 1)[0]
    assert tags_of(shown) == [("p", []), ("strong", [])]
    assert f"{escape(text, quote=False)}</textarea>" in page.text  # the text as typed
    await nothing_written(db)


# -- edit and delete -------------------------------------------------------------------------


async def test_an_edit_of_a_practice_saves_a_revision_with_its_note(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    alice = await alice_of(console, settings, db)
    values = {"title": "Double-check insulin", "summary": "Two nurses.", "markdown": "Read it.",
              "tags": "insulin", "status": "emerging", "note": ""}  # fmt: skip
    await publish(alice, "practice", values)
    row = await only_item(db)
    path = f"/console/c/nightshift/items/{row.ap_id.rsplit('/', 1)[-1]}/edit"
    page = await alice.get(path)
    assert page.status == 200
    assert 'value="Double-check insulin"' in page.text
    assert ">Read it.</textarea>" in page.text
    assert 'value="insulin"' in page.text
    page = await alice.post(path, {**values, "markdown": "Read it twice.", "status": "established",
                                   "note": "After the March incident"})  # fmt: skip
    assert page.status == 200
    assert page.url == WRITE + "?done=updated"
    async with db() as session:
        revisions = list(await session.scalars(select(RevisionRow).order_by(RevisionRow.number)))
    assert [(r.number, r.change_note, r.source_markdown) for r in revisions] == [
        (1, "First version", "Read it."),
        (2, "After the March incident", "Read it twice."),
    ]
    assert revisions[1].editor == "alice (console)"
    [_create, (inbox, update)] = await sent(db)
    assert inbox == INBOX
    assert update["type"] == "Update"
    assert update["object"]["content"] == "<p>Read it twice.</p>\n"
    assert ("alice", "practice.edit") in await audit_actions(db)

    await alice.get(path)
    page = await alice.post(path, {**values, "markdown": "Read it twice.", "status": "established"})
    assert page.url == WRITE + "?done=unchanged"
    assert "Nothing changed" in page.text
    assert len(await sent(db)) == 2


async def test_a_deletion_asks_first_then_sends_delete(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    alice = await alice_of(console, settings, db)
    await publish(alice, "story", {"title": "Night handover", "markdown": "Text."})
    row = await only_item(db)
    listing = await alice.get(WRITE)
    path = f"/console/c/nightshift/items/{row.ap_id.rsplit('/', 1)[-1]}/delete"
    assert f'href="https://cop.test{path}"' in listing.text
    page = await alice.get(path)
    assert page.status == 200
    assert "Delete it" in page.text
    assert "Night handover" in page.text
    assert (await only_item(db)).id == row.id
    assert len(await sent(db)) == 1
    page = await alice.post(path)
    assert page.status == 200
    assert page.url == WRITE + "?done=deleted"
    async with db() as session:
        deleted = await session.get(ObjectRow, row.id)
        assert deleted is not None
        assert deleted.deleted_at is not None
    [_create, (inbox, delete)] = await sent(db)
    assert inbox == INBOX
    assert delete["type"] == "Delete"
    assert delete["object"]["id"] == row.ap_id
    async with console.get(row.ap_id.removeprefix("https://cop.test")) as gone:
        assert gone.status == 410
    assert ("alice", "story.delete") in await audit_actions(db)
    assert (await alice.post(path)).status == 404  # once
