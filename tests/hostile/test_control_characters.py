"""Attack class: control characters in URLs.

An event's online URL holding ``\\r\\n`` (from a remote ``VirtualLocation``, from
``copub publish ... --online-url`` or from the authoring API) was stored, and from then on
``/c/SLUG/events.ics`` answered 500 for everyone (iCalendar cannot carry a line break in a
URI). URLs are checked on the raw string at intake (``urlsplit`` drops tabs, CR and LF
silently), so such a URL is never stored; and a calendar or feed still answers when one
row cannot be written (a row stored before this check, say): that row is left out.
"""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select, update

from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow
from tests.flows import mobilizon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import RemoteServer
from tests.flows.test_practice_api import post, token

BAD_URLS = [
    "https://visio.example/room\r\nX-INJECTED:1",
    "https://visio.example/room\nBEGIN:VEVENT",
    "https://visio.example/\troom",
]


async def _remote_event(copub: Copub, remote: RemoteServer, online: str) -> str:
    mona = remote.person("mona")
    if not await copub.has_follower(mona.id):
        await follow(remote, mona, copub, "nightshift")
    event = mobilizon.event(mona, online=None)
    event["location"] = [event["location"], {"type": "VirtualLocation", "url": online}]
    create = mobilizon.create(mona, event)
    status, answer = await remote.post(mona, copub.inbox("nightshift"), create)
    assert status == 202, answer
    await copub.processed(create["id"])
    assert await copub.inbox_items(create["id"]) == ["done"]
    return str(event["id"])


async def _online_urls(copub: Copub) -> list[str | None]:
    async with copub.sessions() as session:
        return list(await session.scalars(select(EventDetailRow.online_url)))


async def _calendar(copub: Copub) -> str:
    status, body = await copub.get(copub.urls.community_calendar("nightshift"), "text/calendar")
    assert status == 200, body
    assert isinstance(body, str)
    return body


@sqlite_only
@pytest.mark.parametrize("online", BAD_URLS)
async def test_remote_virtual_location_with_control_characters_is_not_stored(
    copub: Copub, remote: RemoteServer, community: str, online: str
) -> None:
    # When a follower's event names an online address with a line break in it
    await _remote_event(copub, remote, online)
    # Then the event is stored without that address, and the calendar answers
    assert await _online_urls(copub) == [None]
    calendar = await _calendar(copub)
    assert "Night shift meetup" in calendar
    assert "X-INJECTED" not in calendar
    assert calendar.count("BEGIN:VEVENT") == 1


@sqlite_only
async def test_cli_refuses_an_online_url_with_a_line_break(copub: Copub, community: str) -> None:
    out = await copub.cli(
        "publish", "nightshift", "event", "--title", "Review", "--content", "Cases.",
        "--start", "2031-03-04T18:00", "--online-url", BAD_URLS[0], ok=False,
    )  # fmt: skip
    assert "location" in out, out
    assert "not an http(s) URL" in out, out
    assert await copub.count(select(func.count()).select_from(ObjectRow)) == 0


@sqlite_only
async def test_authoring_api_refuses_an_online_url_with_a_line_break(
    copub: Copub, community: str
) -> None:
    secret = await token(copub)
    for online in BAD_URLS:
        event = {
            "type": "Event",
            "name": "Monthly case review",
            "content": "Bring one case.",
            "startTime": "2030-12-03T18:00",
            "location": {"type": "VirtualLocation", "url": online},
        }
        status, answer, _headers = await post(copub, event, secret)
        assert status == 400, answer
        assert answer["field"] == "location.url", answer
    assert await copub.count(select(func.count()).select_from(ObjectRow)) == 0


@sqlite_only
async def test_calendar_answers_when_a_stored_row_cannot_be_written(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a follower's event, and one of the community's own stored with a line break in
    # its address and a broken rule (as a row written before these checks could be)
    await _remote_event(copub, remote, "https://visio.example/one")
    out = await copub.cli(
        "publish", "nightshift", "event", "--title", "Broken review", "--content", "Cases.",
        "--start", "2031-03-04T18:00", "--online-url", "https://visio.example/two",
    )  # fmt: skip
    broken = out.strip().removeprefix("published ")
    async with copub.sessions.begin() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == broken))
        assert row is not None
        await session.execute(
            update(EventDetailRow)
            .where(EventDetailRow.object_id == row.id)
            .values(online_url=BAD_URLS[0], rrule="FREQ=DAILY;UNTIL=notadate")
        )
    # Then the calendar answers, with the good event and without the broken one
    calendar = await _calendar(copub)
    assert "https://visio.example/one" in calendar
    assert "Broken review" not in calendar
    assert "X-INJECTED" not in calendar
    # And the broken event's own calendar is not a server error, and its page answers
    async with aiohttp.ClientSession() as session, session.get(broken + "/event.ics") as response:
        assert response.status == 404
    status, page = await copub.get(broken, accept="text/html")
    assert status == 200
    assert "X-INJECTED" not in page
