"""Filing what members send: a post, a reply, or (by its type or hashtags) a practice or an
event of the community, with an event's time and place and a practice's history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from actors.values import CYCLES, ValueClaim, claim_from_object, cycle_tags
from federation.intake import DEFAULT_LIMITS, Limits, remote_time
from federation.vocab import JSON, get_id, has_type, main_type

MAX_SUMMARY = 2_000


@dataclass(frozen=True)
class FilingRules:
    """Which hashtags make a member's post a practice or an event (``[content]``)."""

    practice_tags: frozenset[str] = field(default_factory=frozenset)
    event_tags: frozenset[str] = field(default_factory=frozenset)
    # a value-creation story: one of value_tags and a cycle's tag (tag -> cycle)
    value_tags: frozenset[str] = field(default_factory=frozenset)
    cycle_tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, content: ContentSettings) -> FilingRules:
        def norm(tags: tuple[str, ...]) -> frozenset[str]:
            return frozenset(t.strip().lstrip("#").lower() for t in tags)

        cycles = cycle_tags((c, getattr(content, f"{c}_tags")) for c in CYCLES)
        return cls(
            norm(content.practice_tags), norm(content.event_tags), norm(content.value_tags), cycles
        )

    def cycle_of(self, tags: Iterable[str]) -> str | None:
        """The cycle a post's hashtags tell, when they mark it a value-creation story."""
        tags = tuple(tags)
        if not self.value_tags.intersection(tags):
            return None
        return next((self.cycle_tags[t] for t in tags if t in self.cycle_tags), None)


def kind_for(obj: JSON, rules: FilingRules, *, reply: bool) -> ItemKind:
    """``reply`` for replies; ``event`` for an Event, ``practice`` for an Article; ``story``
    for a post tagged as a value-creation story; ``event`` or ``practice`` for a post tagged
    as one; else ``post``."""
    if reply:
        return ItemKind.REPLY
    if has_type(obj, "Event"):
        return ItemKind.EVENT
    if has_type(obj, "Article"):
        return ItemKind.PRACTICE
    found = tags_of(obj)
    if rules.cycle_of(found) is not None:
        return ItemKind.STORY  # a value-creation story
    tags = set(found)
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
    if kind == ItemKind.STORY:
        item = replace(item, value=member_claim(obj, rules))
    if parent is not None:
        item = replace(item, thread_root=parent.thread_root or parent.ap_id)
    return item, Revision(actor_id, None, item.published)


def member_claim(obj: JSON, rules: FilingRules) -> ValueClaim | None:
    """A member's value-creation story: the claim its copub terms make (read through
    ``federation.intake``), else the cycle its hashtags name."""
    cycle = rules.cycle_of(tags_of(obj))
    return claim_from_object(obj) or (ValueClaim(cycle) if cycle is not None else None)


def refiled_item(
    row: ObjectRow, obj: JSON, limits: Limits = DEFAULT_LIMITS, rules: FilingRules | None = None
) -> tuple[Item, Revision | None]:
    """An Update of a filed item (its kind stays; a story keeps the claim its new version
    makes), and the revision a practice keeps when its text changed."""
    updated = remote_time(obj.get("updated")) or datetime.now(UTC)
    item = replace(_item(row.community_id, obj, row.attributed_to, ItemKind(row.kind), limits),
                   updated=updated)  # fmt: skip
    if row.kind == ItemKind.STORY:
        item = replace(item, value=member_claim(obj, rules or FilingRules()))
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
