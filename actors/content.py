"""The kinds of item and what the published ones share; stories <-> ``Note``.

Practices (``Article``) live in ``actors.practices``, events (``Event``) in ``actors.events``;
``actors.items`` stores, revises and withdraws every kind.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from actors.errors import Invalid
from actors.html import markdown_to_html
from actors.urls import Urls
from federation.clock import as2_time
from federation.intake import DEFAULT_LIMITS, bounded
from federation.vocab import AS_CONTEXT, JSON, PUBLIC, has_type


class ItemKind(StrEnum):
    """What an item is to its community (``ObjectRow.kind``, ``LinkItemRow.kind``)."""

    STORY = "story"  # what happened: a Note with a title
    PRACTICE = "practice"  # the shared repertoire: an Article with a history
    EVENT = "event"  # a meeting: an Event with its time and place
    POST = "post"  # a member's post to the community
    REPLY = "reply"  # a reply in a thread
    LINKED = "linked"  # stored because it came over a link (actors.links)


# what a community publishes itself, and as what
KIND_TO_TYPE = {ItemKind.STORY: "Note", ItemKind.PRACTICE: "Article", ItemKind.EVENT: "Event"}
PUBLISHED_KINDS = tuple(KIND_TO_TYPE)
TYPE_TO_KIND = {ap_type: kind for kind, ap_type in KIND_TO_TYPE.items()}
# what a community stores as an item when a member posts it or a linked community sends it
# (an object of one of these types, among any others it lists)
ITEM_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Video", "Image"})

# copub's own terms (the collections of a community). Every other extension term we send
# is someone else's: Mastodon's, Mobilizon's, schema.org's, iCalendar's, FEP-8a8e's.
COPUB_NS = "https://w3id.org/copub/ns#"

OBJECT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
]

MAX_TITLE = 500
MAX_TEXT = 100_000
MAX_TAGS = 20
_TAG_RE = re.compile(r"^[^\s#,<>&\"'/?]{1,64}$")


class InvalidContent(Invalid):
    """A field of a story, practice or event is not acceptable. ``field`` is its AS2 name
    (``name``, ``startTime``, ...), which the API reports and the CLI maps to its option."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


def new_token() -> str:
    """A short random path segment for object and activity ids."""
    return secrets.token_urlsafe(9)


def require_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidContent("name", "a title is required")
    if len(title) > MAX_TITLE:
        raise InvalidContent("name", f"the title is longer than {MAX_TITLE} characters")
    return title


def require_text(text: str, field: str = "content", *, required: bool = True) -> str:
    if required and not text.strip():
        raise InvalidContent(field, "the text is empty")
    if len(text) > MAX_TEXT:
        raise InvalidContent(field, f"the text is longer than {MAX_TEXT} characters")
    return text


def normalize_tag(raw: str) -> str:
    """``#Insulin`` -> ``insulin``; InvalidContent for what cannot be a hashtag."""
    tag = raw.strip().lstrip("#").lower()
    if not _TAG_RE.match(tag):
        raise InvalidContent("tag", f"{raw!r} is not a hashtag (one word, no spaces)")
    return tag


def normalize_tags(raw: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    tags = tuple(dict.fromkeys(normalize_tag(t) for t in raw))
    if len(tags) > MAX_TAGS:
        raise InvalidContent("tag", f"at most {MAX_TAGS} tags")
    return tags


def hashtags(urls: Urls, slug: str, tags: tuple[str, ...]) -> list[JSON]:
    """``Hashtag`` objects as Mastodon reads them, each linking to the community's tag."""
    return [{"type": "Hashtag", "name": f"#{t}", "href": urls.community_tag(slug, t)} for t in tags]


def tags_of(obj: JSON) -> tuple[str, ...]:
    """The hashtags of an object (``#Name`` -> ``name``), ignoring ones we cannot read."""
    found: list[str] = []
    for tag in bounded(obj.get("tag"), DEFAULT_LIMITS.max_tags):
        if has_type(tag, "Hashtag") and isinstance(tag.get("name"), str):
            try:
                found.append(normalize_tag(tag["name"]))
            except InvalidContent:
                continue
    return tuple(dict.fromkeys(found))


def base_object(
    urls: Urls, slug: str, oid: str, ap_type: str, published: datetime, updated: datetime | None
) -> JSON:
    """The properties every item of a community carries, in the order peers expect."""
    object_id = urls.object(slug, oid)
    obj: JSON = {
        "id": object_id,
        "type": ap_type,
        "attributedTo": urls.community(slug),
        "audience": urls.community(slug),
        "url": object_id,
        "published": as2_time(published),
        "to": [PUBLIC],
        "cc": [urls.community_followers(slug)],
        "replies": urls.object_replies(slug, oid),
        "context": urls.object_context(slug, oid),
        "sensitive": False,
    }
    if updated is not None:
        obj["updated"] = as2_time(updated)
    return obj


@dataclass(frozen=True)
class StoryDraft:
    title: str
    markdown: str


def validate_story(draft: StoryDraft) -> StoryDraft:
    return StoryDraft(title=require_title(draft.title), markdown=require_text(draft.markdown))


def story_html(draft: StoryDraft) -> str:
    """Mastodon shows only ``content`` of a Note: the title leads it, in bold."""
    title = markdown_to_html(f"**{draft.title.strip()}**") if draft.title.strip() else ""
    return title + markdown_to_html(draft.markdown)


def story_to_note(
    *,
    urls: Urls,
    slug: str,
    oid: str,
    draft: StoryDraft,
    published: datetime,
    updated: datetime | None = None,
) -> JSON:
    """A story as a ``Note``: full text for Mastodon, ``name`` for software that shows titles.

    No ``summary``: Mastodon renders a Note's summary as a content warning.
    """
    note: JSON = {"@context": OBJECT_CONTEXT}
    note.update(base_object(urls, slug, oid, "Note", published, updated))
    note.update(
        {
            "name": draft.title.strip(),
            "content": story_html(draft),
            "mediaType": "text/html",
            "source": {"content": draft.markdown, "mediaType": "text/markdown"},
            "tag": [],
        }
    )
    return note
