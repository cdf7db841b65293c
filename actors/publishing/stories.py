"""Stories (what happened): ``Note``s with their full text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from actors.community import Community
from actors.content import StoryDraft, new_token, story_html, story_to_note, validate_story
from actors.items import Item, ItemKind, Send, community_item, revise_item, store_item
from actors.publishing.common import local_object, short_id
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls


def _story(
    urls: Urls,
    community: Community,
    oid: str,
    draft: StoryDraft,
    published: datetime,
    updated: datetime | None = None,
) -> Item:
    note = story_to_note(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=published, updated=updated
    )
    item = community_item(urls, community, ItemKind.STORY, note, published, updated)
    text = story_html(draft)
    return replace(item, title=draft.title, content_html=text, source_markdown=draft.markdown)


async def publish_story(
    session: AsyncSession, urls: Urls, community: Community, draft: StoryDraft
) -> ObjectRow:
    draft = validate_story(draft)
    item = _story(urls, community, new_token(), draft, datetime.now(UTC))
    return await store_item(session, item, send=Send(urls, community))


async def edit_story(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    ref: str,
    *,
    title: str | None,
    markdown: str | None,
) -> ObjectRow:
    row = await local_object(session, urls, community, ref, ItemKind.STORY)
    draft = validate_story(
        StoryDraft(
            title=title if title is not None else row.title or "",
            markdown=markdown if markdown is not None else row.source_markdown or "",
        )
    )
    item = _story(urls, community, short_id(row), draft, row.published, datetime.now(UTC))
    return await revise_item(session, row, item, send=Send(urls, community))
