"""Pure mapping from forum posts to a community's items (no I/O, no database).

A topic becomes a story (``Note``), a practice (``Article``) or an event (``Event``):
its tags decide (``tag_kinds``), and a first post with a discourse-calendar ``[event ...]``
block is an event. A forum reply becomes a ``Note`` by the community, in reply to the
topic's object, saying whose words it carries. The AS2 objects are built in ``objects.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape, unescape
from zoneinfo import ZoneInfo

from actors.items import KIND_TO_TYPE, STATUSES, ItemKind, plain_text, sanitize
from adapters.discourse.config import ForumConfig
from adapters.discourse.wire import ForumPost, ForumTopic
from federation.clock import parse_iso_time, zone_named

_EVENT_RAW = re.compile(r"\[event\b([^\]]*)\]", re.IGNORECASE)
_EVENT_DIV = re.compile(
    r"<div\b[^>]*class=\"[^\"]*\bdiscourse-post-event\b[^\"]*\"[^>]*>(?:.*?</div>)?",
    re.IGNORECASE | re.DOTALL,
)
_ATTR = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")


@dataclass(frozen=True)
class EventInfo:
    start: datetime  # UTC
    end: datetime | None
    timezone: str
    status: str = "public"
    location: str | None = None
    url: str | None = None


def _event_attrs(post: ForumPost) -> dict[str, str] | None:
    """The attributes of the post's ``[event]`` block (from raw, else from cooked HTML)."""
    if post.raw is not None:
        match = _EVENT_RAW.search(post.raw)
        if match:
            return {k.lower(): unescape(v) for k, v in _ATTR.findall(match.group(1))}
    match = _EVENT_DIV.search(post.cooked)
    if match:
        attrs = _ATTR.findall(match.group(0).split(">", 1)[0])
        return {k.lower()[5:]: unescape(v) for k, v in attrs if k.lower().startswith("data-")}
    return None


def _local_time(text: str, zone: ZoneInfo) -> datetime | None:
    """``2026-12-01 18:00`` (the plugin's form) or ISO 8601, in ``zone`` unless it says."""
    moment = parse_iso_time(text, zone)
    return moment.astimezone(UTC) if moment is not None else None


def event_of(post: ForumPost) -> EventInfo | None:
    """The event a first post announces, or None (no block, or no readable start)."""
    attrs = _event_attrs(post)
    if not attrs or "start" not in attrs:
        return None
    zone = zone_named(attrs.get("timezone") or "UTC") or ZoneInfo("UTC")
    start = _local_time(attrs["start"], zone)
    if start is None:
        return None
    end = _local_time(attrs["end"], zone) if attrs.get("end") else None
    return EventInfo(
        start=start,
        end=end if end is not None and end >= start else None,
        timezone=zone.key,
        status=attrs.get("status", "public"),
        location=attrs.get("location") or None,
        url=attrs.get("url") or None,
    )


def kind_of(forum: ForumConfig, topic: ForumTopic, first: ForumPost) -> ItemKind:
    if forum.calendar_events and event_of(first) is not None:
        return ItemKind.EVENT
    kinds = {forum.kind_of_tag(t) for t in topic.tags} - {None}
    for kind in (ItemKind.EVENT, ItemKind.PRACTICE):
        if kind in kinds and (kind != ItemKind.EVENT or event_of(first) is not None):
            return kind
    return ItemKind.STORY


def body_html(post: ForumPost) -> str:
    """The post's cooked HTML, without the event block, through copub's allow-list."""
    return sanitize(_EVENT_DIV.sub("", post.cooked))


def attribution(post: ForumPost) -> str:
    return f"<strong>{escape(post.author_name)}</strong> (@{escape(post.username)} on the forum)"


def topic_url(forum: ForumConfig, topic_id: int, slug: str, post_number: int = 1) -> str:
    base = f"{forum.base_url}/t/{slug or 'topic'}/{topic_id}"
    return base if post_number == 1 else f"{base}/{post_number}"


def fingerprint(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True)
class TopicItem:
    """What a topic publishes, before it gets an id."""

    kind: ItemKind
    ap_type: str
    title: str
    content_html: str  # the item's content as stored and shown on its page
    summary: str | None  # plain text (a practice's gist)
    source_markdown: str | None
    tags: tuple[str, ...]
    url: str
    event: EventInfo | None
    status: str = "emerging"  # of a practice: a tag named like a status sets it
    plain_text: str = ""  # the text without markup, when there is no raw Markdown

    @property
    def markdown(self) -> str:
        return self.source_markdown if self.source_markdown is not None else self.plain_text

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            self.kind, self.title, self.content_html, self.tags, self.event, self.status
        )


def topic_item(forum: ForumConfig, topic: ForumTopic, first: ForumPost) -> TopicItem:
    kind = kind_of(forum, topic, first)
    body = body_html(first)
    summary = plain_text(body, 300) if kind == ItemKind.PRACTICE else None
    return TopicItem(
        kind=kind,
        ap_type=KIND_TO_TYPE[kind],
        title=topic.title.strip() or f"Topic {topic.id}",
        content_html=f"<p><strong>{escape(topic.title.strip())}</strong><br>"
        f"by {attribution(first)}</p>{body}"
        if kind == ItemKind.STORY
        else body,
        summary=summary,
        source_markdown=first.raw,
        tags=topic.tags,
        url=topic_url(forum, topic.id, topic.slug),
        event=event_of(first) if kind == ItemKind.EVENT else None,
        status=next((t for t in topic.tags if t in STATUSES), "emerging"),
        plain_text=plain_text(body),
    )


def reply_html(post: ForumPost) -> str:
    return f"<p>{attribution(post)} wrote:</p>{body_html(post)}"
