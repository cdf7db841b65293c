"""All stories, practices and events page by page; the same URLs serve collections to peers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from actors.community import Community
from tests.actors.test_pages import get_page
from tests.pages.builders import (
    EventSpec,
    Sessions,
    Version,
    add_event,
    add_practice,
    add_story,
    now,
)

AS2 = "application/activity+json"


async def test_stories_page_by_page(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    for i in range(25):
        await add_story(db, nightshift, f"Story {i:02d}", published=now() - timedelta(hours=i))
    community, _html = await get_page(client, "/c/nightshift")
    assert {"href": "https://cop.test/c/nightshift/stories"} in community.find("a")
    first, _html = await get_page(client, "/c/nightshift/stories")
    titles = [t for t in first.text if t.startswith("Story ")]
    assert titles == [f"Story {i:02d}" for i in range(20)]
    assert first.find("a", rel="next") == [{"href": "/c/nightshift/stories?page=2", "rel": "next"}]
    assert first.find("a", rel="prev") == []
    second, _html = await get_page(client, "/c/nightshift/stories?page=2")
    assert [t for t in second.text if t.startswith("Story ")] == [
        f"Story {i:02d}" for i in range(20, 25)
    ]
    assert second.find("a", rel="next") == []
    assert second.find("a", rel="prev")[0]["href"] == "/c/nightshift/stories?page=1"
    bad = await client.get("/c/nightshift/stories?page=0", headers={"Accept": "text/html"})
    assert bad.status == 400


async def test_practices_and_events_pages(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await add_practice(db, nightshift, "Handover", [Version("x", status="retired")])
    await add_event(
        db, nightshift, EventSpec("Case review", now() + timedelta(days=3), location="Ward B")
    )
    practices, _html = await get_page(client, "/c/nightshift/practices")
    assert "Handover" in practices.text
    assert "Retired practice" in practices.text
    events, _html = await get_page(client, "/c/nightshift/events")
    assert "Case review" in events.text
    assert "Place: Ward B" in events.text


async def test_activitypub_clients_still_get_the_collection(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await add_story(db, nightshift, "One")
    response = await client.get("/c/nightshift/stories", headers={"Accept": AS2})
    assert response.content_type == AS2
    assert (await response.json())["type"] == "OrderedCollection"
    assert "Accept" in response.headers["Vary"]


async def test_hashtag_page(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    tagged = await add_story(db, nightshift, "Insulin at 3 a.m.")
    await add_story(db, nightshift, "Untagged")
    async with db.begin() as session:
        row = await session.merge(tagged)
        row.ap_json = {**row.ap_json, "tag": [{"type": "Hashtag", "name": "#Insulin"}]}
    page, _html = await get_page(client, "/c/nightshift/tags/insulin")
    assert "#insulin" in page.text
    assert "Insulin at 3 a.m." in page.text
    assert "Untagged" not in page.text
