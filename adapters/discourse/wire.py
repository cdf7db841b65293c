"""Discourse's JSON (API responses and webhook bodies) read into small typed values.

Field names follow Discourse's OpenAPI document. Reading is lenient where Discourse
versions differ (``reply_to_post_number`` is documented as a string but sent as a number;
``tags`` are names in older versions, ``{id, name, slug}`` objects in newer ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.errors import Upstream

REGULAR_POST = 1  # post_type: 1 regular, 2 moderator action, 3 small action, 4 whisper


class WireError(Upstream, ValueError):
    """A Discourse document without a field we need."""


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WireError(f"'{key}' is missing or not a number")
    try:
        return int(value)
    except ValueError as exc:
        raise WireError(f"'{key}' is not a number: {value!r}") from exc


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    return _int(data, key)


def _str(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ForumPost:
    id: int
    topic_id: int
    post_number: int
    username: str
    name: str
    cooked: str
    raw: str | None  # in webhooks and /posts/{id}.json, not in topic views
    version: int
    created_at: str
    updated_at: str
    reply_to_post_number: int | None
    post_type: int
    deleted_at: str | None
    hidden: bool
    topic_title: str | None = None
    category_id: int | None = None
    topic_archetype: str | None = None
    # the author deleted it: Discourse keeps it (its text replaced by "(post deleted by
    # author)", ``deleted_at`` still empty) until it is removed for good a day later
    user_deleted: bool = False

    @property
    def author_name(self) -> str:
        return self.name.strip() or self.username

    @property
    def withdrawn(self) -> bool:
        """Deleted, by a moderator (``deleted_at``) or by its author (``user_deleted``)."""
        return self.deleted_at is not None or self.user_deleted

    @property
    def is_regular(self) -> bool:
        return self.post_type == REGULAR_POST and not self.hidden


def post_of(data: Any) -> ForumPost:
    if not isinstance(data, dict):
        raise WireError("a post must be an object")
    return ForumPost(
        id=_int(data, "id"),
        topic_id=_int(data, "topic_id"),
        post_number=_int(data, "post_number"),
        username=_str(data, "username"),
        name=_str(data, "name") or _str(data, "display_username"),
        cooked=_str(data, "cooked"),
        raw=data["raw"] if isinstance(data.get("raw"), str) else None,
        version=_opt_int(data, "version") or 1,
        created_at=_str(data, "created_at"),
        updated_at=_str(data, "updated_at") or _str(data, "created_at"),
        reply_to_post_number=_opt_int(data, "reply_to_post_number"),
        post_type=_opt_int(data, "post_type") or REGULAR_POST,
        deleted_at=_opt_str(data, "deleted_at"),
        hidden=bool(data.get("hidden")),
        topic_title=_opt_str(data, "topic_title"),
        category_id=_opt_int(data, "category_id"),
        topic_archetype=_opt_str(data, "topic_archetype"),
        user_deleted=data.get("user_deleted") is True,
    )


def tags_of(data: dict[str, Any]) -> tuple[str, ...]:
    tags: list[str] = []
    for tag in data.get("tags") or ():
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name:
            tags.append(name.lower())
    return tuple(tags)


@dataclass(frozen=True)
class TopicSummary:
    """A topic as category listings show it."""

    id: int
    slug: str
    title: str
    category_id: int | None
    highest_post_number: int
    bumped_at: str
    archetype: str
    pinned: bool = False


def summary_of(data: Any) -> TopicSummary:
    if not isinstance(data, dict):
        raise WireError("a topic must be an object")
    return TopicSummary(
        id=_int(data, "id"),
        slug=_str(data, "slug"),
        title=_str(data, "title"),
        category_id=_opt_int(data, "category_id"),
        highest_post_number=_opt_int(data, "highest_post_number") or 0,
        bumped_at=_str(data, "bumped_at") or _str(data, "last_posted_at"),
        archetype=_str(data, "archetype", "regular"),
        pinned=bool(data.get("pinned")),
    )


@dataclass(frozen=True)
class TopicPage:
    topics: tuple[TopicSummary, ...]
    more: bool


def page_of(data: Any) -> TopicPage:
    topic_list = data.get("topic_list") if isinstance(data, dict) else None
    if not isinstance(topic_list, dict) or not isinstance(topic_list.get("topics"), list):
        raise WireError("a category listing must have topic_list.topics")
    return TopicPage(
        topics=tuple(summary_of(t) for t in topic_list["topics"]),
        more=bool(topic_list.get("more_topics_url")),
    )


@dataclass(frozen=True)
class ForumTopic:
    """A topic view: the topic, its first posts, and the ids of all of them (``stream``)."""

    id: int
    slug: str
    title: str
    category_id: int | None
    tags: tuple[str, ...]
    archetype: str
    created_at: str
    highest_post_number: int
    deleted_at: str | None
    stream: tuple[int, ...]
    posts: tuple[ForumPost, ...]


def topic_of(data: Any) -> ForumTopic:
    if not isinstance(data, dict):
        raise WireError("a topic must be an object")
    stream_data = data.get("post_stream")
    if not isinstance(stream_data, dict):
        raise WireError("a topic view must have a post_stream")
    posts = tuple(post_of(p) for p in stream_data.get("posts") or ())
    stream = tuple(int(i) for i in stream_data.get("stream") or () if isinstance(i, int))
    return ForumTopic(
        id=_int(data, "id"),
        slug=_str(data, "slug"),
        title=_str(data, "title"),
        category_id=_opt_int(data, "category_id"),
        tags=tags_of(data),
        archetype=_str(data, "archetype", "regular"),
        created_at=_str(data, "created_at"),
        highest_post_number=_opt_int(data, "highest_post_number") or 0,
        deleted_at=_opt_str(data, "deleted_at"),
        stream=stream or tuple(p.id for p in posts),
        posts=posts,
    )


def posts_of(data: Any) -> tuple[ForumPost, ...]:
    """The posts of ``/t/{id}/posts.json``."""
    stream_data = data.get("post_stream") if isinstance(data, dict) else None
    if not isinstance(stream_data, dict):
        raise WireError("a posts answer must have a post_stream")
    return tuple(post_of(p) for p in stream_data.get("posts") or ())


@dataclass(frozen=True)
class WebhookTopic:
    """The ``topic`` of a topic event: enough to know which topic to look at."""

    id: int
    category_id: int | None
    archetype: str
    deleted_at: str | None


def webhook_topic_of(data: Any) -> WebhookTopic:
    if not isinstance(data, dict):
        raise WireError("a topic must be an object")
    return WebhookTopic(
        id=_int(data, "id"),
        category_id=_opt_int(data, "category_id"),
        archetype=_str(data, "archetype", "regular"),
        deleted_at=_opt_str(data, "deleted_at"),
    )
