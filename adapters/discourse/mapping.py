"""Pure mapping between forum posts and a community's items (no I/O, no database).

A topic becomes a story (``Note``), a practice (``Article``) or an event (``Event``):
its tags decide (``tag_kinds``), and a first post with a discourse-calendar ``[event ...]``
block is an event. A forum reply becomes a ``Note`` by the community, in reply to the
topic's object, saying whose words it carries. To use actors' own practice and event
builders when they exist, change the line of ``BUILDERS`` for that kind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape, unescape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actors.content import OBJECT_CONTEXT, as2_time
from actors.html import plain_text, sanitize
from actors.urls import Urls
from adapters.discourse.config import ForumConfig
from adapters.discourse.wire import ForumPost, ForumTopic
from federation.vocab import AS_CONTEXT, JSON, PUBLIC

_EVENT_RAW = re.compile(r"\[event\b([^\]]*)\]", re.IGNORECASE)
_EVENT_DIV = re.compile(
    r"<div\b[^>]*class=\"[^\"]*\bdiscourse-post-event\b[^\"]*\"[^>]*>(?:.*?</div>)?",
    re.IGNORECASE | re.DOTALL,
)
_ATTR = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")
EVENT_CONTEXT: list[object] = [
    AS_CONTEXT,
    {"mz": "https://joinmobilizon.org/ns#", "timezone": "mz:timezone"},
]


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
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def event_of(post: ForumPost) -> EventInfo | None:
    """The event a first post announces, or None (no block, or no readable start)."""
    attrs = _event_attrs(post)
    if not attrs or "start" not in attrs:
        return None
    tz_name = attrs.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz_name, zone = "UTC", ZoneInfo("UTC")
    start = _local_time(attrs["start"], zone)
    if start is None:
        return None
    end = _local_time(attrs["end"], zone) if attrs.get("end") else None
    return EventInfo(
        start=start,
        end=end if end is not None and end >= start else None,
        timezone=tz_name,
        status=attrs.get("status", "public"),
        location=attrs.get("location") or None,
        url=attrs.get("url") or None,
    )


def kind_of(forum: ForumConfig, topic: ForumTopic, first: ForumPost) -> str:
    if forum.calendar_events and event_of(first) is not None:
        return "event"
    kinds = {forum.kind_of_tag(t) for t in topic.tags} - {None}
    for kind in ("event", "practice"):
        if kind in kinds and (kind != "event" or event_of(first) is not None):
            return kind
    return "story"


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
class Item:
    """What a topic publishes, before it gets an id."""

    kind: str
    ap_type: str
    title: str
    content_html: str  # the item's content as stored and shown on its page
    summary: str | None
    source_markdown: str | None
    tags: tuple[str, ...]
    url: str
    event: EventInfo | None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.title, self.content_html, self.tags, self.event)


def topic_item(forum: ForumConfig, topic: ForumTopic, first: ForumPost) -> Item:
    kind = kind_of(forum, topic, first)
    body = body_html(first)
    summary = plain_text(body, 300) if kind == "practice" else None
    return Item(
        kind=kind,
        ap_type={"story": "Note", "practice": "Article", "event": "Event"}[kind],
        title=topic.title.strip() or f"Topic {topic.id}",
        content_html=f"<p><strong>{escape(topic.title.strip())}</strong><br>"
        f"by {attribution(first)}</p>{body}"
        if kind == "story"
        else body,
        summary=f"<p>{escape(summary)}</p>" if summary else None,
        source_markdown=first.raw,
        tags=topic.tags,
        url=topic_url(forum, topic.id, topic.slug),
        event=event_of(first) if kind == "event" else None,
    )


def _base(
    urls: Urls,
    slug: str,
    object_id: str,
    ap_type: str,
    published: datetime,
    updated: datetime | None,
) -> JSON:
    oid = object_id.rsplit("/", 1)[-1]
    obj: JSON = {
        "@context": OBJECT_CONTEXT,
        "id": object_id,
        "type": ap_type,
        "attributedTo": urls.community(slug),
        "audience": urls.community(slug),
        "published": as2_time(published),
        "to": [PUBLIC],
        "cc": [urls.community_followers(slug)],
        "replies": urls.object_replies(slug, oid),
        "sensitive": False,
        "mediaType": "text/html",
    }
    if updated is not None:
        obj["updated"] = as2_time(updated)
    return obj


def _hashtags(forum: ForumConfig, tags: tuple[str, ...]) -> list[JSON]:
    return [{"type": "Hashtag", "name": f"#{t}", "href": f"{forum.base_url}/tag/{t}"} for t in tags]


def story_object(forum: ForumConfig, item: Item, obj: JSON) -> JSON:
    obj.update(name=item.title, content=item.content_html, url=item.url)
    obj["tag"] = _hashtags(forum, item.tags)
    return obj


def practice_object(forum: ForumConfig, item: Item, obj: JSON) -> JSON:
    obj.update(name=item.title, content=item.content_html, url=item.url)
    if item.summary:
        obj["summary"] = item.summary
    obj["tag"] = _hashtags(forum, item.tags)
    return obj


def event_object(forum: ForumConfig, item: Item, obj: JSON) -> JSON:
    obj["@context"] = EVENT_CONTEXT
    obj.update(name=item.title, content=item.content_html, url=item.url)
    if item.event is not None:
        obj["startTime"] = as2_time(item.event.start)
        if item.event.end is not None:
            obj["endTime"] = as2_time(item.event.end)
        obj["timezone"] = item.event.timezone
        if item.event.location:
            obj["location"] = {"type": "Place", "name": item.event.location}
    obj["tag"] = _hashtags(forum, item.tags)
    return obj


BUILDERS: dict[str, Callable[[ForumConfig, Item, JSON], JSON]] = {
    "story": story_object,
    "practice": practice_object,
    "event": event_object,
}


def item_object(
    forum: ForumConfig,
    urls: Urls,
    object_id: str,
    item: Item,
    *,
    published: datetime,
    updated: datetime | None = None,
) -> JSON:
    obj = _base(urls, forum.community, object_id, item.ap_type, published, updated)
    return BUILDERS[item.kind](forum, item, obj)


def reply_html(post: ForumPost) -> str:
    return f"<p>{attribution(post)} wrote:</p>{body_html(post)}"


def reply_object(
    forum: ForumConfig,
    urls: Urls,
    object_id: str,
    post: ForumPost,
    *,
    in_reply_to: str,
    topic_slug: str,
    published: datetime,
    updated: datetime | None = None,
) -> JSON:
    obj = _base(urls, forum.community, object_id, "Note", published, updated)
    obj.update(
        content=reply_html(post),
        inReplyTo=in_reply_to,
        url=topic_url(forum, post.topic_id, topic_slug, post.post_number),
    )
    return obj


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
