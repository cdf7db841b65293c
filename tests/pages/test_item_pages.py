"""Each item's page: a practice with its history, an event in its time zone, a story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from actors.community import Community
from tests.actors.test_pages import Page, get_page
from tests.pages.assets import assert_loads_nothing_external
from tests.pages.builders import (
    EventSpec,
    Sessions,
    Version,
    actor_url,
    add_event,
    add_post,
    add_practice,
    add_remote_actor,
    add_story,
    now,
)

AS2 = "application/activity+json"


def path_of(url: str) -> str:
    return url.removeprefix("https://cop.test")


async def test_practice_page_shows_each_revision_and_what_changed(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    editor = actor_url("nora")
    await add_remote_actor(db, editor, name="Nora N.", handle="nora@social.example")
    t0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    versions = [
        Version("Check the dose.\nSign the chart.", status="emerging", at=t0, note="First draft"),
        Version(
            "Check the dose twice.\nSign the chart.\nAsk a colleague <b>&</b> wait.",
            status="emerging", at=t0 + timedelta(days=1), editor=editor, note="Added <the> check",
        ),
        Version(
            "Check the dose twice.\nSign the chart.\nAsk a colleague <b>&</b> wait.",
            status="established", at=t0 + timedelta(days=2), note="Now established",
        ),
    ]  # fmt: skip
    row = await add_practice(db, nightshift, "Double-check insulin", versions)
    page, html = await get_page(client, path_of(row.ap_id))
    assert "Double-check insulin" in page.text
    assert "Established practice" in page.text
    headings = [t for t in page.text if t.startswith("Revision ")]
    assert headings == ["Revision 3", "Revision 2", "Revision 1 (first version)"]
    assert "Nora N." in page.text
    assert "Added <the> check" in page.text
    assert "Added &lt;the&gt; check" in html
    # revision 2: a word added in line 1, a line added; revision 3: only the status
    second = html[html.index('id="rev-2"') : html.index('id="rev-1"')]
    assert '<ins><span class="sr-only">added: </span> twice</ins>' in second
    assert "Ask a colleague &lt;b&gt;&amp;&lt;/b&gt; wait." in second
    assert "<b>&</b>" not in html
    third = html[html.index('id="rev-3"') : html.index('id="rev-2"')]
    assert "Status:" in third
    assert ">emerging</del>" in third
    assert ">established</ins>" in third
    assert "2026-02-03 08:00 UTC" in Page(third).text
    assert_loads_nothing_external(page, html)


async def test_event_page_in_its_time_zone_with_participants(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    alice, bob = actor_url("alice"), actor_url("bob", "mobilizon.example")
    await add_remote_actor(db, alice, name="Alice", handle="alice@social.example")
    start = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
    row = await add_event(
        db, nightshift,
        EventSpec("Monthly case review", start, start + timedelta(hours=1), "Europe/Berlin",
                  "FREQ=MONTHLY;BYDAY=2TU", location="Ward B & C",
                  online_url="https://meet.example/r?a=1&b=2", capacity=20,
                  participants=[(alice, None), (bob, None)]),
    )  # fmt: skip
    page, html = await get_page(client, path_of(row.ap_id))
    assert "Tue 8 Jan 2030, 18:00\u201319:00 CET" in page.text
    assert "Time zone: Europe/Berlin" in page.text
    assert "Every month on the second Tuesday" in page.text
    assert "Ward B & C" in page.text
    [online] = [a for a in page.find("a") if a["href"].startswith("https://meet.example")]
    assert online["href"] == "https://meet.example/r?a=1&b=2"
    assert "nofollow" in online["rel"]
    assert "2 of 20 places" in page.text
    assert "Alice" in page.text
    assert "@alice@social.example" in page.text
    assert "mobilizon.example/users/bob" in page.text
    oid = row.ap_id.rsplit("/", 1)[-1]
    [add] = [a for a in page.find("a") if a.get("class") == "button"]
    assert add["href"] == f"https://cop.test/c/nightshift/o/{oid}/event.ics"
    assert "Add to calendar" in page.text
    dates = [t["datetime"] for t in page.find("time")]
    assert "2030-02-12T18:00:00+01:00" in dates
    assert "2030-04-09T18:00:00+02:00" in dates  # summer time: still 18:00 on the wall
    assert_loads_nothing_external(page, html)


async def test_past_event_says_so(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    row = await add_event(db, nightshift, EventSpec("Gone by", now() - timedelta(days=3)))
    page, _html = await get_page(client, path_of(row.ap_id))
    assert "(past)" in page.text
    assert "Nobody has joined yet." in page.text


async def test_story_page_with_replies_named(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    alice = actor_url("alice")
    await add_remote_actor(db, alice, name="Alice", handle="alice@social.example")
    story = await add_story(db, nightshift, "What happened", "It was a **long** night.")
    await add_post(db, nightshift, alice, html="<p>Same here</p>", reply_to=story.ap_id)
    page, html = await get_page(client, path_of(story.ap_id))
    assert [h for t, h in page.tags if t == "h1"] == [{}]
    assert "What happened" in page.text
    assert "<strong>long</strong>" in html
    assert "Conversation (1)" in page.text
    assert "Same here" in page.text
    assert "@alice@social.example" in page.text
    assert page.one("nav", **{"aria-label": "Breadcrumb"}) is not None


async def test_same_urls_serve_json_to_activitypub_clients(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    practice = await add_practice(db, nightshift, "P", [Version("a")])
    event = await add_event(db, nightshift, EventSpec("E", now()))
    for row in (practice, event):
        response = await client.get(path_of(row.ap_id), headers={"Accept": AS2})
        assert response.status == 200
        assert response.content_type == AS2
        assert (await response.json())["id"] == row.ap_id
        assert "Accept" in response.headers["Vary"]
    html = await client.get(path_of(event.ap_id), headers={"Accept": "text/html"})
    assert html.content_type == "text/html"
    assert "Accept" in html.headers["Vary"]
