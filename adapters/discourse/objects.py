"""Forum items as ActivityStreams objects, built by actors' own builders so a mirrored
practice or event is the same ``Article`` / ``Event`` a coordinator would publish (pages,
the calendar feed and Join treat them alike). Only the HTML differs: the forum's cooked
post (through copub's allow-list) replaces what the builders render from Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from actors.community import Community
from actors.items import (
    OBJECT_CONTEXT,
    EventDraft,
    InvalidContent,
    Item,
    ItemKind,
    Place,
    PracticeDraft,
    base_object,
    community_item,
    event_to_json,
    hashtags,
    normalize_tag,
    practice_to_article,
)
from actors.urls import Urls
from adapters.discourse.config import ForumConfig
from adapters.discourse.mapping import TopicItem, reply_html, topic_url
from adapters.discourse.wire import ForumPost
from federation.clock import utcnow
from federation.intake import safe_url
from federation.vocab import JSON


def valid_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Forum tags that are hashtags too (Discourse allows a few characters AS2 does not)."""
    found: list[str] = []
    for tag in tags:
        try:
            found.append(normalize_tag(tag))
        except InvalidContent:
            continue
    return tuple(dict.fromkeys(found))


def event_draft(item: TopicItem) -> EventDraft:
    """The event as actors' ``EventDraft`` (for the ``Event`` and the calendar's details)."""
    assert item.event is not None
    zone = ZoneInfo(item.event.timezone)
    url = safe_url(item.event.url)
    return EventDraft(
        title=item.title,
        markdown=item.markdown,
        start=item.event.start.astimezone(zone),
        timezone=item.event.timezone,
        end=item.event.end.astimezone(zone) if item.event.end is not None else None,
        place=Place(name=item.event.location[:300]) if item.event.location else None,
        online_url=url,
    )


def _with_forum_html(obj: JSON, item: TopicItem, lead: str = "") -> JSON:
    obj["content"] = lead + item.content_html
    obj["url"] = item.url
    if item.source_markdown is None:
        obj.pop("source", None)  # a topic view has no raw Markdown: no source to offer
    return obj


def story_object(urls: Urls, slug: str, oid: str, item: TopicItem, when: _When) -> JSON:
    note: JSON = {"@context": OBJECT_CONTEXT}
    note.update(base_object(urls, slug, oid, "Note", when.published, when.updated))
    tags = hashtags(urls, slug, valid_tags(item.tags))
    note.update(name=item.title, mediaType="text/html", tag=tags)
    if item.source_markdown is not None:
        note["source"] = {"content": item.source_markdown, "mediaType": "text/markdown"}
    return _with_forum_html(note, item)


def practice_object(urls: Urls, slug: str, oid: str, item: TopicItem, when: _When) -> JSON:
    draft = PracticeDraft(
        title=item.title,
        summary=item.summary or "",
        markdown=item.markdown,
        tags=valid_tags(item.tags),
        status=item.status,
    )
    article = practice_to_article(
        urls=urls, slug=slug, oid=oid, draft=draft, published=when.published, updated=when.updated
    )
    return _with_forum_html(article, item)


def event_object(urls: Urls, slug: str, oid: str, item: TopicItem, when: _When) -> JSON:
    event = event_to_json(
        urls=urls,
        slug=slug,
        oid=oid,
        draft=event_draft(item),
        published=when.published,
        now=utcnow(),
        participant_count=when.participants,
        updated=when.updated,
    )
    event["tag"] = hashtags(urls, slug, valid_tags(item.tags))
    return _with_forum_html(event, item, lead=str(event.get("summary") or ""))


class _When:
    def __init__(self, published: datetime, updated: datetime | None, participants: int) -> None:
        self.published = published
        self.updated = updated
        self.participants = participants


BUILDERS: dict[ItemKind, Callable[[Urls, str, str, TopicItem, _When], JSON]] = {
    ItemKind.STORY: story_object,
    ItemKind.PRACTICE: practice_object,
    ItemKind.EVENT: event_object,
}


def item_object(
    forum: ForumConfig,
    urls: Urls,
    object_id: str,
    item: TopicItem,
    *,
    published: datetime,
    updated: datetime | None = None,
    participants: int = 0,
) -> JSON:
    oid = object_id.rsplit("/", 1)[-1]
    when = _When(published, updated, participants)
    return BUILDERS[item.kind](urls, forum.community, oid, item, when)


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
    oid = object_id.rsplit("/", 1)[-1]
    note: JSON = {"@context": OBJECT_CONTEXT}
    note.update(base_object(urls, forum.community, oid, "Note", published, updated))
    note.update(
        content=reply_html(post),
        mediaType="text/html",
        inReplyTo=in_reply_to,
        url=topic_url(forum, post.topic_id, topic_slug, post.post_number),
    )
    return note


def topic_as_item(
    urls: Urls,
    community: Community,
    item: TopicItem,
    obj: JSON,
    *,
    published: datetime,
    updated: datetime | None = None,
) -> Item:
    """A topic as the community's own item: its object, what pages read of it, an event's
    time and place, a practice's status."""
    return replace(
        community_item(urls, community, item.kind, obj, published, updated),
        title=item.title[:500] if item.title else None,
        content_html=item.content_html,
        source_markdown=item.source_markdown,
        summary=item.summary,
        status=item.status if item.kind == ItemKind.PRACTICE else None,
        event=event_draft(item) if item.event is not None else None,
    )


def reply_as_item(
    urls: Urls,
    community: Community,
    obj: JSON,
    *,
    published: datetime,
    updated: datetime | None = None,
    in_reply_to: str | None = None,
    thread_root: str | None = None,
) -> Item:
    """A forum reply as the community's item, in the topic's thread."""
    return replace(
        community_item(urls, community, ItemKind.REPLY, obj, published, updated),
        content_html=str(obj["content"]),
        in_reply_to=in_reply_to,
        thread_root=thread_root,
    )
