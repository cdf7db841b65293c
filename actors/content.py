"""Stories (and later practices and events) <-> ActivityStreams objects."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from actors.html import markdown_to_html
from actors.urls import Urls
from federation.vocab import AS_CONTEXT, JSON, PUBLIC

KINDS = ("story",)
KIND_TO_TYPE = {"story": "Note"}

OBJECT_CONTEXT: list[object] = [
    AS_CONTEXT,
    {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
]


def new_token() -> str:
    """A short random path segment for object and activity ids."""
    return secrets.token_urlsafe(9)


def as2_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StoryDraft:
    title: str
    markdown: str


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
    object_id = urls.object(slug, oid)
    note: JSON = {
        "@context": OBJECT_CONTEXT,
        "id": object_id,
        "type": "Note",
        "attributedTo": urls.community(slug),
        "audience": urls.community(slug),
        "name": draft.title.strip(),
        "content": story_html(draft),
        "mediaType": "text/html",
        "source": {"content": draft.markdown, "mediaType": "text/markdown"},
        "url": object_id,
        "published": as2_time(published),
        "to": [PUBLIC],
        "cc": [urls.community_followers(slug)],
        "replies": urls.object_replies(slug, oid),
        "sensitive": False,
        "tag": [],
    }
    if updated is not None:
        note["updated"] = as2_time(updated)
    return note
