"""Practices, the community's shared repertoire <-> ``Article``; their revision history.

Mastodon (3.x to 4.x) shows an ``Article`` as its ``name`` as a heading, its ``summary`` and
a link to ``url``; it does not show ``content``. So the summary carries what a Mastodon user
needs to decide to click: the gist and the practice's status. Software that shows articles
(Lemmy, Misskey, WordPress, Friendica, another copub) reads ``content`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from actors.content import (
    InvalidContent,
    base_object,
    hashtags,
    normalize_tags,
    require_text,
    require_title,
)
from actors.html import markdown_to_html
from actors.urls import Urls
from federation.vocab import AS_CONTEXT, JSON

STATUSES = ("emerging", "established", "retired")
STATUS_LABELS = {
    "emerging": "Emerging practice: being tried out",
    "established": "Established practice",
    "retired": "Retired practice: no longer recommended",
}
MAX_SUMMARY = 2_000

PRACTICE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "sc": "http://schema.org#",
        # schema.org's "status of a creative work in terms of its stage in a lifecycle"
        "creativeWorkStatus": "sc:creativeWorkStatus",
    },
]


@dataclass(frozen=True)
class PracticeDraft:
    title: str
    summary: str  # plain text, a paragraph or two
    markdown: str
    tags: tuple[str, ...] = ()
    status: str = "emerging"


def validate_practice(draft: PracticeDraft) -> PracticeDraft:
    """The draft with its fields checked and normalised; InvalidContent names the field."""
    summary = draft.summary.strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidContent("summary", f"the summary is longer than {MAX_SUMMARY} characters")
    status = draft.status.strip().lower()
    if status not in STATUSES:
        raise InvalidContent(
            "creativeWorkStatus", f"the status must be one of {', '.join(STATUSES)}"
        )
    return PracticeDraft(
        title=require_title(draft.title),
        summary=summary,
        markdown=require_text(draft.markdown),
        tags=normalize_tags(draft.tags),
        status=status,
    )


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in parts)


def practice_summary_html(draft: PracticeDraft) -> str:
    """What Mastodon shows under the title: the summary, then the status."""
    return _paragraphs(draft.summary) + f"<p><em>{escape(STATUS_LABELS[draft.status])}</em></p>"


def practice_html(draft: PracticeDraft) -> str:
    return markdown_to_html(draft.markdown)


def practice_to_article(
    *,
    urls: Urls,
    slug: str,
    oid: str,
    draft: PracticeDraft,
    published: datetime,
    updated: datetime | None = None,
) -> JSON:
    article: JSON = {"@context": PRACTICE_CONTEXT}
    article.update(base_object(urls, slug, oid, "Article", published, updated))
    article.update(
        {
            "name": draft.title,
            "summary": practice_summary_html(draft),
            "content": practice_html(draft),
            "mediaType": "text/html",
            "source": {"content": draft.markdown, "mediaType": "text/markdown"},
            "tag": hashtags(urls, slug, draft.tags),
            "creativeWorkStatus": draft.status,
        }
    )
    return article
