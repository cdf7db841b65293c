"""The iCalendar feed and single-event files, read back with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from aiohttp.test_utils import TestClient

from actors.community import Community
from tests.pages.builders import EventSpec, Sessions, add_event

START = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
TRICKY = "Review & <cases>; café, “naïve” 🚑\\"


async def get_calendar(client: TestClient[Any, Any], path: str) -> tuple[icalendar.Calendar, Any]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/calendar"
    assert response.charset == "utf-8"
    body = await response.read()
    assert b"\r\n" in body  # RFC 5545 line endings
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded lines
    return icalendar.Calendar.from_ical(body), response


def events_of(cal: icalendar.Calendar) -> list[icalendar.Event]:
    return list(cal.walk("VEVENT"))


async def test_recurring_event_in_its_time_zone(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    row = await add_event(
        db, nightshift,
        EventSpec(TRICKY, START, START + timedelta(hours=1), "Europe/Berlin",
                  "FREQ=MONTHLY;BYDAY=1TU", location="Ward B, room 3; 2nd floor",
                  markdown="Bring **one** case & a coffee."),
    )  # fmt: skip
    cal, _ = await get_calendar(client, "/c/nightshift/events.ics")
    assert str(cal["X-WR-CALNAME"]) == "Night Shift Nursing"
    assert str(cal["PRODID"]).startswith("-//copub//")
    [event] = events_of(cal)
    assert str(event["UID"]) == row.ap_id
    assert str(event["SUMMARY"]) == TRICKY
    assert str(event["LOCATION"]) == "Ward B, room 3; 2nd floor"
    assert str(event["URL"]) == row.ap_id
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 1, 6, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTEND") - start == timedelta(hours=1)
    assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=1TU"
    assert event.decoded("DTSTAMP") == row.published
    description = str(event["DESCRIPTION"])
    assert "Bring one case & a coffee." in description
    assert row.ap_id in description
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Berlin"
    offsets = {str(sub["TZNAME"]) for sub in tz.subcomponents}
    assert offsets == {"CET", "CEST"}


async def test_online_event_links_the_meeting(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    url = "https://meet.example/room?a=1&b=2"
    await add_event(db, nightshift, EventSpec("Online", START, online_url=url))
    cal, _ = await get_calendar(client, "/c/nightshift/events.ics")
    [event] = events_of(cal)
    assert str(event["LOCATION"]) == url
    assert str(event["CONFERENCE"]) == url
    assert f"Online: {url}" in str(event["DESCRIPTION"])
    assert event["DTSTART"].to_ical() == b"20260106T170000Z"  # UTC events stay in UTC
    assert not cal.walk("VTIMEZONE")


async def test_uid_is_stable_and_old_events_drop_out(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    soon = await add_event(db, nightshift, EventSpec("Soon", now + timedelta(days=2)))
    await add_event(db, nightshift, EventSpec("Long ago", now - timedelta(days=400)))
    yearly = await add_event(
        db, nightshift, EventSpec("Anniversary", now - timedelta(days=800), rrule="FREQ=YEARLY")
    )
    first, response = await get_calendar(client, "/c/nightshift/events.ics")
    second, _ = await get_calendar(client, "/c/nightshift/events.ics")
    uids = sorted(str(e["UID"]) for e in events_of(first))
    assert uids == sorted([soon.ap_id, yearly.ap_id])
    assert first.to_ical() == second.to_ical()
    again = await client.get(
        "/c/nightshift/events.ics", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status == 304


async def test_one_event_for_add_to_calendar(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    row = await add_event(
        db, nightshift, EventSpec("Case review", START, timezone="America/New_York")
    )
    oid = row.ap_id.rsplit("/", 1)[-1]
    cal, response = await get_calendar(client, f"/c/nightshift/o/{oid}/event.ics")
    assert response.headers["Content-Disposition"] == f'attachment; filename="nightshift-{oid}.ics"'
    [event] = events_of(cal)
    assert str(event["UID"]) == row.ap_id
    assert event.decoded("DTSTART") == datetime(
        2026, 1, 6, 12, 0, tzinfo=ZoneInfo("America/New_York")
    )
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]


async def test_no_calendar_for_what_is_not_an_event(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    from tests.pages.builders import add_story

    story = await add_story(db, nightshift, "A story")
    oid = story.ap_id.rsplit("/", 1)[-1]
    assert (await client.get(f"/c/nightshift/o/{oid}/event.ics")).status == 404
    assert (await client.get("/c/nightshift/o/nothing/event.ics")).status == 404
    empty, _ = await get_calendar(client, "/c/nightshift/events.ics")
    assert events_of(empty) == []
