"""Conditional GET: a page, an actor document and a collection answer 304 while nothing
they show has changed, and 200 with a new ETag after each kind of write (publish, revise,
withdraw, a follower, a removal, a community edit), whoever made it; a signed-in viewer is
never answered from the public cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.community import Community
from actors.items import (
    Item,
    ItemKind,
    Owner,
    Send,
    remove_item,
    revise_item,
    store_item,
    withdraw_item,
)
from actors.store import social
from actors.store.models import CommunityRow, ObjectRow
from actors.web.keys import ENGINE, SESSIONS
from actors.web.page_cache import PAGE_CACHE, Rendered
from tests import factories
from tests.actors.test_pages import BROWSER
from tests.pages.builders import URLS, Sessions, actor_url, add_follower

AS2 = "application/activity+json"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# (path, Accept): an HTML page, the actor document and a collection
VIEWS = [
    ("/c/nightshift", BROWSER),
    ("/c/nightshift", AS2),
    ("/c/nightshift/outbox", AS2),
    ("/c/nightshift/followers", AS2),
]


def story(community: Community, oid: str, text: str = "Night shift") -> Item:
    ap_id = URLS.object(community.slug, oid)
    return Item(
        kind=ItemKind.STORY,
        owner=Owner.community(URLS, community),
        obj={"id": ap_id, "type": "Note", "name": "Handover", "content": f"<p>{text}</p>"},
        ap_type="Note",
        published=WHEN,
        title="Handover",
        content_html=f"<p>{text}</p>",
        source_markdown=text,
    )


async def publish(db: Sessions, community: Community, oid: str) -> str:
    async with db.begin() as session:
        row = await store_item(session, story(community, oid), send=Send(URLS, community))
    return row.ap_id


async def item_row(session: AsyncSession, ap_id: str) -> ObjectRow:
    row = await social.get_object(session, ap_id)
    assert row is not None
    return row


async def etag_of(client: TestClient[Any, Any], path: str, accept: str) -> str:
    response = await client.get(path, headers={"Accept": accept})
    assert response.status == 200, await response.text()
    return response.headers["ETag"]


async def status_for(client: TestClient[Any, Any], path: str, accept: str, etag: str) -> int:
    response = await client.get(path, headers={"Accept": accept, "If-None-Match": etag})
    if response.status == 304:
        assert await response.read() == b""
        assert response.headers["ETag"] == etag
    return response.status


async def etags(client: TestClient[Any, Any]) -> list[str]:
    return [await etag_of(client, path, accept) for path, accept in VIEWS]


async def statuses(client: TestClient[Any, Any], tags: list[str]) -> list[int]:
    return [
        await status_for(client, path, accept, tag)
        for (path, accept), tag in zip(VIEWS, tags, strict=True)
    ]


@pytest.mark.parametrize(("path", "accept"), VIEWS)
async def test_unchanged_answers_304_with_its_headers(
    client: TestClient[Any, Any], nightshift: Community, path: str, accept: str
) -> None:
    first = await client.get(path, headers={"Accept": accept})
    etag = first.headers["ETag"]
    again = await client.get(path, headers={"Accept": accept, "If-None-Match": f'"x", {etag}'})
    assert again.status == 304
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"] == "no-cache"
    if path == "/c/nightshift":
        assert again.headers["Vary"] == "Accept"
    star = await client.get(path, headers={"Accept": accept, "If-None-Match": "*"})
    assert star.status == 304


async def test_html_and_json_of_one_url_have_different_etags(
    client: TestClient[Any, Any], nightshift: Community
) -> None:
    html = await etag_of(client, "/c/nightshift", BROWSER)
    assert await status_for(client, "/c/nightshift", AS2, html) == 200


async def test_each_write_changes_every_view(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    async def changed_by(write: Any) -> None:
        before = await etags(client)
        assert await statuses(client, before) == [304] * len(VIEWS)
        await write
        assert await statuses(client, before) == [200] * len(VIEWS)

    ap_id = URLS.object(nightshift.slug, "s1")
    await changed_by(publish(db, nightshift, "s1"))

    async def revise() -> None:
        async with db.begin() as session:
            row = await item_row(session, ap_id)
            await revise_item(session, row, story(nightshift, "s1", "Revised"), send=None)

    await changed_by(revise())
    await changed_by(add_follower(db, nightshift, actor_url("ann")))

    async def unfollow() -> None:  # a statement, not a flushed row
        async with db.begin() as session:
            assert await social.remove_follower(session, nightshift.id, actor_url("ann"))

    await changed_by(unfollow())

    async def remove() -> None:
        async with db.begin() as session:
            row = await item_row(session, ap_id)
            assert await remove_item(session, row, send=Send(URLS, nightshift), reason="spam")

    await changed_by(remove())
    second = await publish(db, nightshift, "s2")

    async def withdraw() -> None:
        async with db.begin() as session:
            row = await item_row(session, second)
            await withdraw_item(session, row, send=Send(URLS, nightshift))

    await changed_by(withdraw())


async def test_an_item_page_changes_with_its_item(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    ap_id = await publish(db, nightshift, "s1")
    path = "/c/nightshift/o/s1"
    tags = [await etag_of(client, path, accept) for accept in (BROWSER, AS2)]
    async with db.begin() as session:
        row = await item_row(session, ap_id)
        await revise_item(session, row, story(nightshift, "s1", "Later"), send=None)
    for accept, tag in zip((BROWSER, AS2), tags, strict=True):
        response = await client.get(path, headers={"Accept": accept, "If-None-Match": tag})
        assert response.status == 200
        assert "Later" in await response.text()


async def test_a_write_to_another_community_changes_nothing_here(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    other = await factories.create_community(db, "dayshift")
    before = await etags(client)
    await publish(db, other, "d1")
    await add_follower(db, other, actor_url("bob"))
    assert await statuses(client, before) == [304] * len(VIEWS)


async def test_a_write_by_another_process_is_seen(
    client: TestClient[Any, Any], sessions: Sessions, nightshift: Community
) -> None:
    """``sessions``: another engine on the same database, as another process has."""
    before = await etags(client)
    await publish(sessions, nightshift, "s1")
    assert await statuses(client, before) == [200] * len(VIEWS)


async def test_a_community_edit_shows_at_once(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    etag = await etag_of(client, "/c/nightshift", AS2)
    async with db.begin() as session:
        row = await session.get(CommunityRow, nightshift.id)
        assert row is not None
        row.name = "Night Shift Nurses"
    response = await client.get("/c/nightshift", headers={"Accept": AS2, "If-None-Match": etag})
    assert response.status == 200
    assert (await response.json())["name"] == "Night Shift Nurses"  # not the directory's copy


async def test_if_modified_since(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    async with db.begin() as session:  # on the connection: this write is not a change
        await (await session.connection()).execute(
            update(CommunityRow).values(content_changed_at=long_ago)
        )
    client.app[PAGE_CACHE].started = long_ago
    first = await client.get("/c/nightshift/outbox", headers={"Accept": AS2})
    assert first.headers["Last-Modified"] == format_datetime(long_ago, usegmt=True)
    since = {"Accept": AS2, "If-Modified-Since": first.headers["Last-Modified"]}
    assert (await client.get("/c/nightshift/outbox", headers=since)).status == 304
    earlier = format_datetime(long_ago - timedelta(seconds=1), usegmt=True)
    assert (
        await client.get("/c/nightshift/outbox", headers={**since, "If-Modified-Since": earlier})
    ).status == 200
    await publish(db, nightshift, "s1")
    after = await client.get("/c/nightshift/outbox", headers=since)
    assert after.status == 200
    assert "Last-Modified" not in after.headers  # changed this very second: no date yet


@contextmanager
def counting(client: TestClient[Any, Any]) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = client.app[ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def rendering(statements: list[str]) -> list[str]:
    """What the app's engine was asked to read beside the version (read on a connection of
    its own on SQLite); a background loop's write meanwhile (an upkeep purge) is not the
    page's."""
    return [s for s in statements if "content_version" not in s and s.startswith("SELECT")]


async def test_a_rendered_page_is_served_again_until_a_change(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await publish(db, nightshift, "s1")
    first = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    with counting(client) as statements:
        await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert rendering(statements), "a page is kept the second time it is rendered"
    with counting(client) as statements:
        again = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert await again.read() == await first.read()
    assert not rendering(statements)  # the version read at most, nothing rendered
    await publish(db, nightshift, "s2")
    with counting(client) as statements:
        changed = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert rendering(statements)
    assert (await changed.text()).count("Handover") > (await first.text()).count("Handover")


def mark_cached_pages(client: TestClient[Any, Any]) -> None:
    """Replace every cached body by a marker: whoever is answered from the cache gets it."""
    cache = client.app[PAGE_CACHE].cache
    for key, kept in list(cache._kept.items()):
        cache._kept[key] = Rendered(kept.etag, kept.status, b"FROM-CACHE", kept.headers)


async def test_a_signed_in_viewer_is_never_served_from_the_public_cache(
    client: TestClient[Any, Any], nightshift: Community
) -> None:
    etag = await etag_of(client, "/c/nightshift", BROWSER)
    assert await etag_of(client, "/c/nightshift", BROWSER) == etag  # rendered again: kept
    mark_cached_pages(client)
    public = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert await public.read() == b"FROM-CACHE"  # the marker works
    signed = {"Accept": BROWSER, "Cookie": "copub_session=abc", "If-None-Match": etag}
    response = await client.get("/c/nightshift", headers=signed)
    assert response.status == 200
    assert b"FROM-CACHE" not in await response.read()
    assert "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert len(client.app[PAGE_CACHE].cache) == 1  # and it left nothing there


async def test_html_without_a_period_is_never_cached(make_client: Any, database_url: str) -> None:
    client = await make_client(factories.make_settings(database_url, pages={"html_seconds": 0}))
    await factories.create_community(client.app[SESSIONS])
    response = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert response.status == 200
    assert "ETag" not in response.headers
    assert "ETag" in (await client.get("/c/nightshift", headers={"Accept": AS2})).headers
