"""Atom and RSS feeds of a community's stories and practices (feedgen does the XML)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from actors.community import Community
from actors.html import plain_text
from actors.urls import Urls

# Characters XML 1.0 cannot carry at all (lxml refuses them): C0 controls but tab, CR, LF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

KIND_LABELS = {"story": "Story", "practice": "Practice"}


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
    feed.updated(max((i.updated or i.published for i in items), default=community.created_at))
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(item.url)
        entry.guid(item.url, permalink=True)
        entry.title(xml_text(item.title or KIND_LABELS.get(item.kind, "Item")))
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.published(item.published)
        entry.updated(item.updated or item.published)
        entry.content(xml_text(item.content_html), type="html")
        summary = item.summary or plain_text(item.content_html, 280)
        if summary:
            entry.summary(xml_text(summary))
        entry.category(term=item.kind, label=KIND_LABELS.get(item.kind, item.kind))
        if item.status:
            entry.category(term=f"status:{item.status}", label=xml_text(item.status))
        entry.author({"name": xml_text(community.name), "uri": page})
    return feed


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
