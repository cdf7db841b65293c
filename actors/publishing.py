"""What coordinators publish: stories now; create, edit and delete send to followers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors import outbound
from actors.community import Community
from actors.content import StoryDraft, new_token, story_html, story_to_note
from actors.store import social
from actors.store.models import ObjectRow
from actors.urls import Urls

log = logging.getLogger(__name__)


class NotPublished(LookupError):
    """No such item of this community (or it was deleted)."""


def _oid_of(urls: Urls, community: Community, ref: str) -> str:
    """Accept an object's full URL or just its last path segment."""
    return ref if ref.startswith(("http://", "https://")) else urls.object(community.slug, ref)


async def publish_story(
    session: AsyncSession, urls: Urls, community: Community, draft: StoryDraft
) -> ObjectRow:
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
        title=draft.title.strip(),
        content_html=story_html(draft),
        source_markdown=draft.markdown,
        ap_json=note,
        published=now,
    )
    session.add(row)
    await session.flush()
    create = outbound.build_create(urls, community, note)
    await outbound.send_to_followers(session, community, create, object_id=row.ap_id)
    log.info("published story %s", row.ap_id, extra={"community": community.slug})
    return row


async def _local_object(
    session: AsyncSession, urls: Urls, community: Community, ref: str
) -> ObjectRow:
    row = await social.get_object(session, _oid_of(urls, community, ref))
    if row is None or not row.local or row.community_id != community.id or row.deleted_at:
        raise NotPublished(f"{community.slug} has no published item {ref!r}")
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
    row = await _local_object(session, urls, community, ref)
    draft = StoryDraft(
        title=title if title is not None else row.title or "",
        markdown=markdown if markdown is not None else row.source_markdown or "",
    )
    now = datetime.now(UTC)
    oid = row.ap_id.rsplit("/", 1)[-1]
    note = story_to_note(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=row.published, updated=now
    )
    row.title = draft.title.strip()
    row.source_markdown = draft.markdown
    row.content_html = story_html(draft)
    row.ap_json = note
    row.updated = now
    update = outbound.build_update(urls, community, note, now)
    await outbound.send_to_followers(session, community, update, object_id=row.ap_id)
    return row


async def delete_item(
    session: AsyncSession, urls: Urls, community: Community, ref: str
) -> ObjectRow:
    row = await _local_object(session, urls, community, ref)
    row.deleted_at = datetime.now(UTC)
    await social.withdraw_activities(session, row.ap_id)
    delete = outbound.build_delete(urls, community, row.ap_id, row.ap_type)
    await outbound.send_to_followers(session, community, delete, object_id=row.ap_id)
    return row
