"""Attack class: markup in feeds.

A story whose text shows ``<script>`` or ``<img onerror=…>`` as words (escaped in the page)
reached the RSS ``<description>`` unescaped: ``plain_text`` had decoded the entities, and
feed readers render the description as HTML. Atom was fine. Every HTML field of a feed is
sanitized as pages are and text fields are escaped, so after XML decoding no feed carries
a script or an event handler; and a feed still answers when one item cannot be written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiohttp.test_utils import TestClient

from actors.community import Community
from actors.urls import Urls
from actors.web.feed_xml import FeedItem, atom_feed, rss_feed
from actors.web.keys import SESSIONS
from tests import factories
from tests.pages.builders import Version, add_practice, add_story

HOSTILE = (
    'See <script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="javascript:x">y</a>'
)
NS = {"atom": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/"}


class _Markup(HTMLParser):
    """What a reader rendering a field as HTML would run: scripts, handlers, script links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript"):
                self.found.append(f"{tag} {name}={value}")


def active_markup(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.found


async def _body(client: TestClient[Any, Any], path: str) -> bytes:
    response = await client.get(path)
    assert response.status == 200
    return await response.read()


async def test_no_feed_field_carries_scripts_or_handlers(client: TestClient[Any, Any]) -> None:
    sessions = client.app[SESSIONS]
    community = await factories.create_community(sessions)
    # Given a story whose text shows markup as words, and a practice whose summary does
    await add_story(sessions, community, "Markup <b>as</b> words", HOSTILE)
    await add_practice(sessions, community, "Checks", [Version("Text.", summary=HOSTILE)])
    # Then the RSS description and content, decoded from XML, run nothing as HTML
    rss = ET.fromstring(await _body(client, "/c/nightshift/feed.rss"))  # noqa: S314 (our own)
    fields = [
        (element.tag, element.text or "")
        for item in rss.iter("item")
        for element in (item.find("description"), item.find("content:encoded", NS))
        if element is not None
    ]
    assert len(fields) >= 3
    assert any("alert(1)" in text for _tag, text in fields)  # the words are still there
    for tag, text in fields:
        assert active_markup(text) == [], (tag, text)
    # And neither do Atom's HTML contents
    atom = ET.fromstring(await _body(client, "/c/nightshift/feed.atom"))  # noqa: S314 (our own)
    contents = [
        element.text or ""
        for element in atom.iter(f"{{{NS['atom']}}}content")
        if element.get("type") == "html"
    ]
    assert contents
    for text in contents:
        assert active_markup(text) == [], text


def test_a_feed_answers_when_one_item_cannot_be_written() -> None:
    community = Community(
        id=1, slug="nightshift", name="Night Shift", summary="", closed=False,
        posting_policy="followers", public_key_pem="", created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    urls = Urls("https://cop.test")
    good = FeedItem(
        url="https://cop.test/c/nightshift/o/1", kind="story", title="Good",
        content_html="<p>Fine</p>", published=datetime(2026, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    # a time without its zone (as a row read back wrongly might be): feedgen refuses it
    bad = FeedItem(
        url="https://cop.test/c/nightshift/o/2", kind="story", title="Bad",
        content_html="<p>Broken</p>", published=datetime(2026, 3, 2),  # noqa: DTZ001 (naive on purpose)
    )  # fmt: skip
    for write in (atom_feed, rss_feed):
        body = write(community, urls, [bad, good], self_url="https://cop.test/feed")
        assert b"Good" in body
        assert b"Broken" not in body
