"""Stories (what happened): ``Note``s with their full text."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors.community import Community
from actors.content import StoryDraft, new_token, story_html, story_to_note, validate_story
from actors.publishing.common import local_object, send_create, send_update, short_id
from actors.store.models import ObjectRow
from actors.urls import Urls


async def publish_story(
    session: AsyncSession, urls: Urls, community: Community, draft: StoryDraft
) -> ObjectRow:
    draft = validate_story(draft)
    oid = new_token()
    now = datetime.now(UTC)
    note = story_to_note(urls=urls, slug=community.slug, oid=oid, draft=draft, published=now)
    row = ObjectRow(
        ap_id=note["id"],
        community_id=community.id,
        kind="story",
        ap_type="Note",
        local=True,
        attributed_to=urls.community(community.slug),
        title=draft.title,
        content_html=story_html(draft),
        source_markdown=draft.markdown,
        ap_json=note,
        published=now,
    )
    await send_create(session, urls, community, row)
    return row


async def edit_story(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    ref: str,
    *,
    title: str | None,
    markdown: str | None,
) -> ObjectRow:
    row = await local_object(session, urls, community, ref, "story")
    draft = validate_story(
        StoryDraft(
            title=title if title is not None else row.title or "",
            markdown=markdown if markdown is not None else row.source_markdown or "",
        )
    )
    now = datetime.now(UTC)
    note = story_to_note(
        urls=urls,
        slug=community.slug,
        oid=short_id(row),
        draft=draft,
        published=row.published,
        updated=now,
    )
    row.title = draft.title
    row.source_markdown = draft.markdown
    row.content_html = story_html(draft)
    await send_update(session, urls, community, row, note, now)
    return row
