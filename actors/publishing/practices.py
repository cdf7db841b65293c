"""Practices (the shared repertoire): ``Article``s that live; each edit is an ``Update`` and a
saved revision (who, when, what changed, the full text) for the practice's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from actors.community import Community
from actors.content import new_token, tags_of
from actors.items import Item, ItemKind, Revision, Send, community_item, revise_item, store_item
from actors.practices import PracticeDraft, practice_html, practice_to_article, validate_practice
from actors.publishing.common import Unchanged, local_object, short_id
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls

FIRST_NOTE = "First version"


def _practice(
    urls: Urls,
    community: Community,
    oid: str,
    draft: PracticeDraft,
    published: datetime,
    updated: datetime | None = None,
) -> Item:
    article = practice_to_article(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=published, updated=updated
    )
    return replace(
        community_item(urls, community, ItemKind.PRACTICE, article, published, updated),
        title=draft.title,
        content_html=practice_html(draft),
        source_markdown=draft.markdown,
        summary=draft.summary,
        status=draft.status,
    )


def current_practice(row: ObjectRow) -> PracticeDraft:
    return PracticeDraft(
        title=row.title or "",
        summary=row.summary or "",
        markdown=row.source_markdown or "",
        tags=tags_of(row.ap_json),
        status=row.status or "emerging",
    )


async def publish_practice(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    draft: PracticeDraft,
    *,
    editor: str,
    note: str | None = None,
) -> ObjectRow:
    """Publish a practice (Create(Article) to followers) and save it as revision 1.
    ``editor`` names who wrote it (an actor URL or a plain name, shown in its history)."""
    now = datetime.now(UTC)
    item = _practice(urls, community, new_token(), validate_practice(draft), now)
    revision = Revision(editor, (note or "").strip() or FIRST_NOTE, now)
    return await store_item(session, item, send=Send(urls, community), revision=revision)


def _what_changed(old: PracticeDraft, new: PracticeDraft) -> str:
    names = [
        label
        for label, changed in (
            ("title", old.title != new.title),
            ("summary", old.summary != new.summary),
            ("text", old.markdown != new.markdown),
            ("tags", old.tags != new.tags),
            (f"status: {old.status} -> {new.status}", old.status != new.status),
        )
        if changed
    ]
    return "Changed " + ", ".join(names)


async def edit_practice(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    ref: str,
    *,
    editor: str,
    note: str | None = None,
    title: str | None = None,
    summary: str | None = None,
    markdown: str | None = None,
    tags: tuple[str, ...] | None = None,
    status: str | None = None,
) -> ObjectRow:
    """Change what is given (None: keep); followers get Update(Article) and the history a
    new revision with ``note`` (else a list of what changed). Unchanged if nothing did."""
    row = await local_object(session, urls, community, ref, ItemKind.PRACTICE)
    old = current_practice(row)
    new = validate_practice(
        replace(
            old,
            title=old.title if title is None else title,
            summary=old.summary if summary is None else summary,
            markdown=old.markdown if markdown is None else markdown,
            tags=old.tags if tags is None else tags,
            status=old.status if status is None else status,
        )
    )
    if new == old:
        raise Unchanged(f"{row.ap_id}: nothing changed")
    now = datetime.now(UTC)
    item = _practice(urls, community, short_id(row), new, row.published, now)
    revision = Revision(editor, (note or "").strip() or _what_changed(old, new), now)
    return await revise_item(session, row, item, send=Send(urls, community), revision=revision)
