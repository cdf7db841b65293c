"""Events (meetings, workshops): ``Event``s with their time, place and participants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from actors.community import Community
from actors.content import new_token
from actors.event_json import draft_from_event, event_to_json
from actors.events import EventDraft, detail_row, validate_event
from actors.html import markdown_to_html
from actors.publishing.common import Unchanged, local_object, send_create, send_update, short_id
from actors.store import practice as store
from actors.store.models import ObjectRow
from actors.urls import Urls


async def publish_event(
    session: AsyncSession, urls: Urls, community: Community, draft: EventDraft
) -> ObjectRow:
    """Publish an event: Create(Event) to followers, its details stored for pages,
    the calendar feed and Join. The row's ``content_html`` is the description alone (pages
    show the time and place from the details); the Event's content leads with them."""
    draft = validate_event(draft)
    oid = new_token()
    now = datetime.now(UTC)
    event = event_to_json(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=now, now=now
    )
    row = ObjectRow(
        ap_id=event["id"],
        community_id=community.id,
        kind="event",
        ap_type="Event",
        local=True,
        attributed_to=urls.community(community.slug),
        title=draft.title,
        content_html=markdown_to_html(draft.markdown),
        source_markdown=draft.markdown,
        ap_json=event,
        published=now,
    )
    await send_create(session, urls, community, row)
    session.add(detail_row(row.id, draft))
    await session.flush()
    return row


def current_event(row: ObjectRow) -> EventDraft:
    return draft_from_event(row.ap_json, row.source_markdown or "")


async def edit_event(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    ref: str,
    change: Callable[[EventDraft], EventDraft],
) -> ObjectRow:
    """Apply ``change`` to the event as published (e.g. ``lambda d: replace(d, capacity=30)``);
    followers get Update(Event) with the current participant count. Unchanged if the
    change changes nothing."""
    row = await local_object(session, urls, community, ref, "event")
    old = current_event(row)
    new = validate_event(change(old))
    if new == old:
        raise Unchanged(f"{row.ap_id}: nothing changed")
    now = datetime.now(UTC)
    count = await store.count_participants(session, row.id)
    event = event_to_json(
        urls=urls,
        slug=community.slug,
        oid=short_id(row),
        draft=new,
        published=row.published,
        now=now,
        participant_count=count,
        updated=now,
    )
    row.title = new.title
    row.source_markdown = new.markdown
    row.content_html = markdown_to_html(new.markdown)
    await store.save_event_detail(session, detail_row(row.id, new))
    await send_update(session, urls, community, row, event, now)
    return row
