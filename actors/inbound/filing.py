"""Filing what members send: a post, a reply, or (by its type or hashtags) a practice or an
event of the community, with an event's time and place and a practice's history."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from actors.community import Community
from actors.content import ITEM_TYPES, tags_of
from actors.event_json import remote_event_draft
from actors.html import plain_text, sanitize
from actors.items import Item, ItemKind, Owner, Revision
from actors.practices import STATUSES
from actors.settings import ContentSettings
from actors.store.models import ObjectRow
from federation.intake import DEFAULT_LIMITS, Limits, remote_time
from federation.vocab import JSON, get_id, has_type, main_type

MAX_SUMMARY = 2_000


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


def kind_for(obj: JSON, rules: FilingRules, *, reply: bool) -> ItemKind:
    """``reply`` for replies; ``event`` for an Event or a post tagged as one; ``practice``
    for an Article or a post tagged as one; else ``post``."""
    if reply:
        return ItemKind.REPLY
    if has_type(obj, "Event"):
        return ItemKind.EVENT
    if has_type(obj, "Article"):
        return ItemKind.PRACTICE
    tags = set(tags_of(obj))
    if tags & rules.event_tags:
        return ItemKind.EVENT
    if tags & rules.practice_tags:
        return ItemKind.PRACTICE
    return ItemKind.POST


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


def filed_item(
    community: Community,
    obj: JSON,
    actor_id: str,
    parent: ObjectRow | None,
    rules: FilingRules,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Item, Revision]:
    """A member's post as the community files it, in its thread (``parent``: the item it
    replies to, if stored here), and the first revision a practice keeps."""
    kind = kind_for(obj, rules, reply=parent is not None or bool(obj.get("inReplyTo")))
    item = _item(community.id, obj, actor_id, kind, limits)
    if parent is not None:
        item = replace(item, thread_root=parent.thread_root or parent.ap_id)
    return item, Revision(actor_id, None, item.published)


def refiled_item(
    row: ObjectRow, obj: JSON, limits: Limits = DEFAULT_LIMITS
) -> tuple[Item, Revision | None]:
    """An Update of a filed item (its kind stays), and the revision a practice keeps when
    its text changed."""
    updated = remote_time(obj.get("updated")) or datetime.now(UTC)
    item = replace(_item(row.community_id, obj, row.attributed_to, ItemKind(row.kind), limits),
                   updated=updated)  # fmt: skip
    before = (row.title, row.summary, row.source_markdown, row.status)
    changed = before != (item.title, item.summary, item.source_markdown, item.status)
    return item, Revision(row.attributed_to, None, updated) if changed else None


def _item(community_id: int, obj: JSON, author: str, kind: ItemKind, limits: Limits) -> Item:
    name = obj.get("name")
    practice = kind == ItemKind.PRACTICE
    return Item(
        kind=kind,
        owner=Owner.remote(community_id, author),
        obj=obj,
        ap_type=(main_type(obj, ITEM_TYPES) or "Note")[:40],
        published=remote_time(obj.get("published")) or datetime.now(UTC),
        title=plain_text(name, 500) if isinstance(name, str) else None,
        content_html=sanitize(str(obj.get("content") or "")),
        summary=_summary(obj) if practice else None,
        status=_status(obj) if practice else None,
        source_markdown=_source_text(obj) if practice else None,
        in_reply_to=get_id(obj.get("inReplyTo")),
        event=remote_event_draft(obj, limits) if kind == ItemKind.EVENT else None,
    )
