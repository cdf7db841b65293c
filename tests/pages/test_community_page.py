"""The community page: domain, events, stories, practices, circles, feeds, follow form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event

from actors.community import Community
from actors.web.keys import CIRCLES, ENGINE, SESSIONS
from actors.web.page_cache import PAGE_CACHE
from tests import factories
from tests.actors.test_pages import BROWSER, Page, get_page
from tests.pages.assets import assert_loads_nothing_external
from tests.pages.builders import (
    EventSpec,
    Sessions,
    Version,
    actor_url,
    add_event,
    add_follower,
    add_moderator,
    add_post,
    add_practice,
    add_remote_actor,
    add_story,
    now,
)


def section(html: str, heading_id: str) -> Page:
    """The part of the page from the heading with this id to the next section."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return Page(html[start : end if end != -1 else len(html)])


async def test_feeds_are_linked_for_readers_and_calendars(
    client: TestClient[Any, Any], nightshift: Community
) -> None:
    page, _html = await get_page(client, "/c/nightshift")
    alternates = {link["type"]: link["href"] for link in page.find("link", rel="alternate")}
    assert alternates == {
        "application/activity+json": "https://cop.test/c/nightshift",
        "application/atom+xml": "https://cop.test/c/nightshift/feed.atom",
        "application/rss+xml": "https://cop.test/c/nightshift/feed.rss",
        "text/calendar": "https://cop.test/c/nightshift/events.ics",
    }
    hrefs = {a["href"] for a in page.find("a")}
    assert "webcal://cop.test/c/nightshift/events.ics" in hrefs
    for path in ("/c/nightshift/feed.atom", "/c/nightshift/feed.rss", "/c/nightshift/events.ics"):
        assert (await client.get(path)).status == 200


async def test_upcoming_events_by_next_date(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    t = now()
    await add_event(db, nightshift, EventSpec("Over", t - timedelta(days=2)))
    await add_event(db, nightshift, EventSpec("Later", t + timedelta(days=20), location="Ward B"))
    # began long ago, meets weekly: its next date is within a week
    await add_event(
        db, nightshift,
        EventSpec("Weekly huddle", datetime(2025, 1, 7, 7, 0, tzinfo=UTC),
                  datetime(2025, 1, 7, 7, 30, tzinfo=UTC), "Europe/Berlin", "FREQ=WEEKLY"),
    )  # fmt: skip
    _page, html = await get_page(client, "/c/nightshift")
    events = section(html, "events-h")
    titles = [t for t in events.text if t in ("Over", "Later", "Weekly huddle")]
    assert titles == ["Weekly huddle", "Later"]
    assert "Every week on Tuesday" in events.text
    assert "Place: Ward B" in events.text
    [huddle_time, _later] = events.find("time")
    next_start = datetime.fromisoformat(huddle_time["datetime"])
    assert (
        next_start.hour == 8 and next_start.tzname() in ("CET", "UTC+01:00")
    ) or next_start.utcoffset() == timedelta(hours=1)
    assert t - timedelta(minutes=30) <= next_start <= t + timedelta(days=7)


async def test_stories_and_practices_with_status(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    for i in range(12):
        await add_story(db, nightshift, f"Story {i}", published=now() - timedelta(hours=12 - i))
    versions = [
        Version("one", status="emerging"),
        Version("two", status="established", summary="Two nurses."),
    ]
    await add_practice(db, nightshift, "Double-check insulin", versions)
    _page, html = await get_page(client, "/c/nightshift")
    stories = section(html, "stories-h")
    shown = [t for t in stories.text if t.startswith("Story ")]
    assert shown == [f"Story {i}" for i in range(11, 1, -1)]  # the ten newest
    practices = section(html, "practices-h")
    assert "Double-check insulin" in practices.text
    assert "Two nurses." in practices.text
    assert practices.find("span", **{"class": "badge"})
    assert "Established practice" in practices.text


async def test_circles_name_core_and_active_and_count_the_rest(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    core, active, reader, visitor, coord = (
        actor_url(n) for n in ("core", "active", "reader", "visitor", "coord")
    )
    await add_remote_actor(db, core, name="Core <Carla>", handle="core@social.example")
    await add_remote_actor(db, coord, name="Coordinator Cory", handle="coord@social.example")
    await add_moderator(db, nightshift, coord)
    for actor in (core, active, reader):
        await add_follower(db, nightshift, actor)
    for i in range(5):
        await add_follower(db, nightshift, actor_url(f"lurker{i}"))
    for _ in range(10):
        await add_post(db, nightshift, core)
    for _ in range(3):
        await add_post(db, nightshift, active)
    await add_post(db, nightshift, reader)
    await add_post(db, nightshift, visitor)
    await add_post(db, nightshift, actor_url("old"), published=now() - timedelta(days=91))
    _page, html = await get_page(client, "/c/nightshift")
    people = section(html, "people-h")
    text = " ".join(people.text)
    assert "2 core 1 active 6 peripheral 1 occasional visitors" in text
    core_list = Page(html[html.index('id="core-h"') : html.index('id="active-h"')])
    assert "Coordinator Cory" in core_list.text
    assert "Core <Carla>" in core_list.text
    assert "@core@social.example" in core_list.text
    assert "coordinator" in core_list.text
    assert "Core &lt;Carla&gt;" in html
    active_list = Page(
        html[html.index('id="active-h"') : html.index("</section>", html.index('id="active-h"'))]
    )
    assert "social.example/users/active" in active_list.text  # never fetched: named by its URL
    assert [a["href"] for a in active_list.find("a")] == [active]
    for name in ("reader", "visitor", "lurker0", "old"):
        assert f"users/{name}" not in text


async def test_remote_html_stays_sanitised(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await add_post(
        db, nightshift, actor_url("mallory"),
        html='<p onclick="x()">Hi <script>alert(1)</script><img src="https://evil.example/x.png"></p>',
    )  # fmt: skip
    page, html = await get_page(client, "/c/nightshift")
    assert "alert(1)" not in html
    assert "onclick" not in html
    assert "evil.example" not in html
    assert_loads_nothing_external(page, html)


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_page_costs_the_same_few_queries_whatever_the_size(
    make_client: Any, database_url: str
) -> None:
    settings = factories.make_settings(
        database_url, participation={"refresh_seconds": 0}, pages={"html_seconds": 0}
    )  # every view counts the circles and renders (no render cache)
    client = await make_client(settings)
    db = client.app[SESSIONS]
    nightshift = await factories.create_community(db)
    # a coordinator: the circles always name someone, however the members fall in the
    # window (naming nobody costs one query less, which is not what this measures)
    await add_moderator(db, nightshift, actor_url("coordinator"))

    async def render() -> list[str]:
        with counting(client.app[ENGINE]) as statements:
            response = await client.get("/c/nightshift", headers={"Accept": BROWSER})
            assert response.status == 200
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    async def add(count: int) -> None:
        t = now()
        for i in range(count):
            member = actor_url(f"m{i}-{count}")
            await add_story(db, nightshift, f"S{i}")
            await add_practice(db, nightshift, f"P{i}", [Version("a"), Version("b")])
            weekly = "FREQ=WEEKLY" if i % 2 else None
            spec = EventSpec(f"E{i}", t + timedelta(days=i), rrule=weekly)
            spec.participants.append((member, None))
            await add_event(db, nightshift, spec)
            await add_post(db, nightshift, member)
            await add_follower(db, nightshift, member)

    await add(1)
    await render()  # the community is now cached, as on a busy server
    small = await render()
    await add(40)
    large = await render()
    # two of them the value matrix's; on PostgreSQL one more, the members-only gate's fresh
    # read of the community's visibility (SQLite's goes around the engine: versions.py)
    assert len(small) == len(large) <= 11


async def test_circles_are_counted_at_most_once_a_refresh(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    """With the default refresh_seconds, a burst of views counts the circles once."""
    await get_page(client, "/c/nightshift")
    for i in range(3):
        await add_follower(db, nightshift, actor_url(f"new{i}"))
    _page, html = await get_page(client, "/c/nightshift")
    assert "0 peripheral" in " ".join(section(html, "people-h").text)
    client.app[CIRCLES].invalidate(nightshift.id)
    client.app[PAGE_CACHE].cache.clear()  # else the page rendered for this version again
    _page, html = await get_page(client, "/c/nightshift")
    assert "3 peripheral" in " ".join(section(html, "people-h").text)
