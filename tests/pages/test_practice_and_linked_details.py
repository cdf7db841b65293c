"""A practice page shows its tags (each linking to its tag page) and its
status once; linked events show when they take place, not when they were published."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from actors.community import Community
from actors.content import ItemKind
from actors.store.models import ObjectRow
from actors.store.models_links import LinkItemRow
from tests.actors.test_pages import get_page
from tests.pages.builders import Sessions, Version, actor_url, add_practice
from tests.pages.test_community_page import section


def path_of(url: str) -> str:
    return url.removeprefix("https://cop.test")


async def test_practice_page_shows_its_tags_and_its_status_once(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    row = await add_practice(db, nightshift, "Double-check insulin", [Version("Check twice.",
                             status="established")])  # fmt: skip
    tags = [
        {
            "type": "Hashtag",
            "name": "#Insulin",
            "href": "https://cop.test/c/nightshift/tags/insulin",
        },
        {"type": "Hashtag", "name": "#safety", "href": "https://cop.test/c/nightshift/tags/safety"},
        {"type": "Mention", "name": "@someone", "href": "https://social.example/users/someone"},
    ]
    async with db.begin() as session:
        await session.execute(
            update(ObjectRow)
            .where(ObjectRow.id == row.id)
            .values(ap_json={**row.ap_json, "tag": tags})
        )
    page, html = await get_page(client, path_of(row.ap_id))
    links = page.find("a", rel="tag")
    assert [a["href"] for a in links] == [
        "https://cop.test/c/nightshift/tags/insulin",
        "https://cop.test/c/nightshift/tags/safety",
    ]
    assert "#insulin" in page.text
    assert html.count("Established practice") == 1


async def test_an_emerging_practice_says_what_that_means_once(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    row = await add_practice(
        db, nightshift, "Quiet handover", [Version("Whisper.", status="emerging")]
    )
    page, html = await get_page(client, path_of(row.ap_id))
    assert html.count("Emerging practice") == 1
    assert "being tried out" in page.text
    assert page.find("a", rel="tag") == []


async def test_a_linked_event_shows_when_it_takes_place(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    group = actor_url("icu", "other.example")
    event_id = "https://other.example/events/7"
    published = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    document = {
        "id": event_id, "type": "Event", "name": "Case review", "attributedTo": group,
        "startTime": "2030-03-12T18:00:00+01:00", "endTime": "2030-03-12T20:00:00+01:00",
        "timezone": "Europe/Paris",
    }  # fmt: skip
    async with db.begin() as session:
        row = ObjectRow(
            ap_id=event_id, community_id=nightshift.id, kind=ItemKind.LINKED, ap_type="Event",
            attributed_to=group, title="Case review", ap_json=document, published=published,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        session.add(
            LinkItemRow(
                community_id=nightshift.id,
                object_id=row.id,
                kind=ItemKind.EVENT,
                via_actor=group,
                origin_group=group,
            )
        )
    _page, html = await get_page(client, "/c/nightshift")
    linked = section(html, "linked-h")
    times = linked.find("time")
    assert [t["datetime"] for t in times] == ["2030-03-12T18:00:00+01:00"]
    assert any("Tue 12 Mar 2030, 18:00" in t and "20:00" in t for t in linked.text)
    assert "2026-01-05" not in linked.text
