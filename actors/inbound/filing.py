"""Filing what members send: a post, a reply, or (by its type or hashtags) a practice or an
event of the community, with an event's time and place and a practice's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors.community import Community
from actors.content import tags_of
from actors.event_json import remote_event_draft
from actors.events import detail_row
from actors.html import plain_text, sanitize
from actors.practices import STATUSES
from actors.settings import ContentSettings
from actors.store import practice as store
from actors.store.models import ObjectRow
from federation.intake import DEFAULT_LIMITS, Limits, remote_time
from federation.vocab import JSON, get_id, has_type, main_type

MAX_SUMMARY = 2_000
# what a member may post to a community (a type of these, among others it may list)
POST_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Video", "Image"})


@dataclass(frozen=True)
class FilingRules:
    """Which hashtags make a member's post a practice or an event (``[content]``)."""

    practice_tags: frozenset[str] = field(default_factory=frozenset)
    event_tags: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, content: ContentSettings) -> FilingRules:
        def norm(tags: tuple[str, ...]) -> frozenset[str]:
            return frozenset(t.strip().lstrip("#").lower() for t in tags)

        return cls(norm(content.practice_tags), norm(content.event_tags))


def parse_time(value: object) -> datetime | None:
    """A time from a remote document within the sane years (federation/intake.py), else None."""
    return remote_time(value)


def kind_for(obj: JSON, rules: FilingRules, *, reply: bool) -> str:
    """``reply`` for replies; ``event`` for an Event or a post tagged as one; ``practice``
    for an Article or a post tagged as one; else ``post``."""
    if reply:
        return "reply"
    if has_type(obj, "Event"):
        return "event"
    if has_type(obj, "Article"):
        return "practice"
    tags = set(tags_of(obj))
    if tags & rules.event_tags:
        return "event"
    if tags & rules.practice_tags:
        return "practice"
    return "post"


def _summary(obj: JSON) -> str | None:
    summary = obj.get("summary")
    return plain_text(summary, MAX_SUMMARY) or None if isinstance(summary, str) else None


def _status(obj: JSON) -> str | None:
    status = obj.get("creativeWorkStatus")
    return status if isinstance(status, str) and status in STATUSES else None


def _source_text(obj: JSON) -> str:
    """The text a practice's history compares: its Markdown source if sent, else plain."""
    source = obj.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        return str(source["content"])
    return plain_text(str(obj.get("content") or ""))


def object_row(
    community: Community,
    obj: JSON,
    actor_id: str,
    parent: ObjectRow | None,
    rules: FilingRules,
) -> ObjectRow:
    kind = kind_for(obj, rules, reply=parent is not None or bool(obj.get("inReplyTo")))
    row = ObjectRow(
        ap_id=obj["id"],
        community_id=community.id,
        kind=kind,
        ap_type=(main_type(obj, POST_TYPES) or "Note")[:40],
        local=False,
        attributed_to=actor_id,
        in_reply_to=get_id(obj.get("inReplyTo")),
        thread_root=(parent.thread_root or parent.ap_id) if parent is not None else None,
        ap_json=obj,
        published=parse_time(obj.get("published")) or datetime.now(UTC),
    )
    _copy_fields(row, obj)
    return row


def _copy_fields(row: ObjectRow, obj: JSON) -> None:
    name = obj.get("name")
    row.title = plain_text(name, 500) if isinstance(name, str) else None
    row.content_html = sanitize(str(obj.get("content") or ""))
    if row.kind == "practice":
        row.summary = _summary(obj)
        row.status = _status(obj)
        row.source_markdown = _source_text(obj)


async def file_details(
    session: AsyncSession,
    row: ObjectRow,
    obj: JSON,
    editor: str,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """After the row is stored: an event's time and place, a practice's first revision."""
    if row.kind == "event":
        draft = remote_event_draft(obj, limits)
        if draft is not None:
            await store.save_event_detail(session, detail_row(row.id, draft))
    elif row.kind == "practice":
        await store.add_revision(
            session, row, editor=editor, change_note=None, when=row.updated or row.published
        )


async def refile(
    session: AsyncSession,
    row: ObjectRow,
    obj: JSON,
    editor: str,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """An Update of a filed item: its fields, event details and practice history follow."""
    before = (row.title, row.summary, row.source_markdown, row.status)
    row.ap_json = obj
    row.updated = parse_time(obj.get("updated")) or datetime.now(UTC)
    _copy_fields(row, obj)
    if row.kind == "event":
        draft = remote_event_draft(obj, limits)
        if draft is not None:
            await store.save_event_detail(session, detail_row(row.id, draft))
    elif row.kind == "practice" and before != (
        row.title,
        row.summary,
        row.source_markdown,
        row.status,
    ):
        await store.add_revision(session, row, editor=editor, change_note=None, when=row.updated)
