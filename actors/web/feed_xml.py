"""Atom and RSS feeds of a community's stories and practices (feedgen does the XML).

Feed readers render HTML fields (Atom ``content``, RSS ``description`` and
``content:encoded``) as HTML: they carry HTML through the pages' sanitizer, and text shown
as text (a summary) is escaped for RSS, where the description is HTML. An item that cannot
be written is left out (and logged); the feed still answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from actors.community import Community
from actors.content import ItemKind
from actors.html import plain_text, sanitize
from actors.urls import Urls
from federation.intake import safe_url

# Characters XML 1.0 cannot carry at all (lxml refuses them): C0 controls but tab, CR, LF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

KIND_LABELS: dict[str, str] = {ItemKind.STORY: "Story", ItemKind.PRACTICE: "Practice"}

log = logging.getLogger(__name__)


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class FeedItem:
    url: str
    kind: str
    title: str
    content_html: str
    published: datetime
    updated: datetime | None = None
    summary: str | None = None
    status: str | None = None  # a practice's status


def _generator(
    community: Community, urls: Urls, items: Sequence[FeedItem], self_url: str
) -> FeedGenerator:
    feed = FeedGenerator()
    page = urls.community(community.slug)
    feed.id(page)
    feed.title(xml_text(community.name))
    feed.subtitle(xml_text(plain_text(community.summary) or community.name))
    feed.link(href=self_url, rel="self")  # first: feedgen's RSS <link> is the last one added
    feed.link(href=page, rel="alternate", type="text/html")
    feed.author({"name": xml_text(community.name), "uri": page})
    feed.generator("copub")
    written = []
    for item in items:
        entry = feed.add_entry(order="append")
        try:
            _entry(entry, item, community, page)
        except (ValueError, TypeError) as exc:
            feed.remove_entry(entry)
            log.warning("%s left out of the feed of %s: %s", item.url, community.slug, exc)
            continue
        written.append(item)
    feed.updated(max((i.updated or i.published for i in written), default=community.created_at))
    return feed


def _entry(entry: FeedEntry, item: FeedItem, community: Community, page: str) -> None:
    if safe_url(item.url) is None:
        raise ValueError("its id is not an http(s) URL")
    entry.id(item.url)
    entry.guid(item.url, permalink=True)
    entry.title(xml_text(item.title or KIND_LABELS.get(item.kind, "Item")))
    entry.link(href=item.url, rel="alternate", type="text/html")
    entry.published(item.published)
    entry.updated(item.updated or item.published)
    entry.content(xml_text(sanitize(item.content_html)), type="html")
    summary = item.summary or plain_text(item.content_html, 280)
    if summary:
        # text, as HTML (RSS's description is HTML): escaped, in Atom's summary too
        entry.summary(xml_text(escape(summary, quote=False)), type="html")
    entry.category(term=item.kind, label=KIND_LABELS.get(item.kind, item.kind))
    if item.status:
        entry.category(term=f"status:{item.status}", label=xml_text(item.status))
    entry.author({"name": xml_text(community.name), "uri": page})


def atom_feed(
    community: Community, urls: Urls, items: Sequence[FeedItem], *, self_url: str
) -> bytes:
    body: bytes = _generator(community, urls, items, self_url).atom_str(pretty=False)
    return body


def rss_feed(
    community: Community, urls: Urls, items: Sequence[FeedItem], *, self_url: str
) -> bytes:
    body: bytes = _generator(community, urls, items, self_url).rss_str(pretty=False)
    return body
