"""Atom and RSS of stories and practices, read back with feedparser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
from aiohttp.test_utils import TestClient

from actors.community import Community
from actors.web.keys import SESSIONS
from tests import factories
from tests.pages.builders import Sessions, Version, actor_url, add_post, add_practice, add_story

TRICKY = "Fire & <ice> — café “naïve” 🚑"


async def get_feed(client: TestClient[Any, Any], path: str, content_type: str) -> Any:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == content_type
    assert response.charset == "utf-8"
    body = await response.read()
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    return feed, response


async def test_atom_has_stories_and_practices_newest_first(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    t0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    story = await add_story(
        db, nightshift, TRICKY, "Body with **bold** & <script>x</script>", published=t0
    )
    versions = [
        Version("v1", status="emerging", at=t0 + timedelta(days=1)),
        Version("v2", status="established", summary="Two nurses check.", at=t0 + timedelta(days=2)),
    ]
    practice = await add_practice(db, nightshift, "Double-check insulin", versions)
    await add_post(db, nightshift, actor_url("alice"))  # a member's post is not the community's
    feed, _ = await get_feed(client, "/c/nightshift/feed.atom", "application/atom+xml")
    assert feed.version == "atom10"
    assert feed.feed.title == "Night Shift Nursing"
    assert feed.feed.id == "https://cop.test/c/nightshift"
    links = {(link.rel, link.href) for link in feed.feed.links}
    assert ("self", "https://cop.test/c/nightshift/feed.atom") in links
    assert ("alternate", "https://cop.test/c/nightshift") in links
    assert [e.id for e in feed.entries] == [practice.ap_id, story.ap_id]
    newest, oldest = feed.entries
    assert oldest.title == TRICKY
    assert oldest.link == story.ap_id
    assert oldest.published_parsed[:5] == (2026, 3, 1, 9, 30)
    assert "<strong>bold</strong>" in oldest.content[0].value
    assert "<script>" not in oldest.content[0].value
    assert [t.term for t in oldest.tags] == ["story"]
    assert newest.title == "Double-check insulin"
    assert newest.summary == "Two nurses check."
    assert {t.term for t in newest.tags} == {"practice", "status:established"}
    assert newest.updated_parsed[:3] == (2026, 3, 3)


async def test_rss_carries_the_same_items(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    story = await add_story(db, nightshift, TRICKY, "Text")
    feed, _ = await get_feed(client, "/c/nightshift/feed.rss", "application/rss+xml")
    assert feed.version == "rss20"
    assert feed.feed.link == "https://cop.test/c/nightshift"
    [entry] = feed.entries
    assert entry.title == TRICKY
    assert entry.link == story.ap_id
    assert entry.id == story.ap_id
    assert entry.published_parsed is not None


async def test_deleted_items_and_other_communities_stay_out(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    other = await factories.create_community(db, "dayshift")
    await add_story(db, other, "Day story")
    await add_story(db, nightshift, "Gone", deleted_at=datetime.now(UTC))
    kept = await add_story(db, nightshift, "Kept")
    feed, _ = await get_feed(client, "/c/nightshift/feed.atom", "application/atom+xml")
    assert [e.id for e in feed.entries] == [kept.ap_id]


async def test_an_empty_feed_is_valid(client: TestClient[Any, Any], nightshift: Community) -> None:
    feed, _ = await get_feed(client, "/c/nightshift/feed.atom", "application/atom+xml")
    assert feed.entries == []
    assert feed.feed.updated_parsed is not None


async def test_unchanged_feed_answers_304(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await add_story(db, nightshift, "One")
    _feed, response = await get_feed(client, "/c/nightshift/feed.atom", "application/atom+xml")
    etag = response.headers["ETag"]
    again = await client.get("/c/nightshift/feed.atom", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    await add_story(db, nightshift, "Two")
    changed = await client.get("/c/nightshift/feed.atom", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag


async def test_unknown_community_has_no_feed(client: TestClient[Any, Any]) -> None:
    for path in ("/c/nobody/feed.atom", "/c/nobody/feed.rss", "/c/nobody/events.ics"):
        assert (await client.get(path)).status == 404


async def test_feeds_need_no_signature_in_secure_mode(make_client: Any, database_url: str) -> None:
    """Feed readers and calendar apps cannot sign requests; secure mode leaves feeds open."""
    settings = factories.make_settings(
        database_url, server={"base_url": factories.BASE_URL, "secure_mode": True}
    )
    client = await make_client(settings)
    community = await factories.create_community(client.app[SESSIONS])
    story = await add_story(client.app[SESSIONS], community, "Open")
    for path in ("/c/nightshift/feed.atom", "/c/nightshift/feed.rss", "/c/nightshift/events.ics"):
        assert (await client.get(path, headers={"Accept": "*/*"})).status == 200
    unsigned = await client.get(
        story.ap_id.removeprefix(factories.BASE_URL),
        headers={"Accept": "application/activity+json"},
    )
    assert unsigned.status == 401
