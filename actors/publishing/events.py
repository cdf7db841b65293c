"""Events (meetings, workshops): ``Event``s with their time, place and participants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from actors.community import Community
from actors.content import new_token
from actors.event_json import draft_from_event, event_to_json
from actors.events import EventDraft, validate_event
from actors.html import markdown_to_html
from actors.items import Item, ItemKind, Send, community_item, revise_item, store_item
from actors.publishing.common import Unchanged, local_object, short_id
from actors.store import practice as store
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls


def _event(
    urls: Urls, community: Community, oid: str, draft: EventDraft, published: datetime,
    *, updated: datetime | None = None, participants: int = 0,
) -> Item:  # fmt: skip
    """The row's ``content_html`` is the description alone (pages show the time and place
    from the details); the Event's content leads with them."""
    now = updated or published
    event = event_to_json(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=published, now=now,
        participant_count=participants, updated=updated,
    )  # fmt: skip
    return replace(
        community_item(urls, community, ItemKind.EVENT, event, published, updated),
        title=draft.title,
        content_html=markdown_to_html(draft.markdown),
        source_markdown=draft.markdown,
        event=draft,
    )


async def publish_event(
    session: AsyncSession, urls: Urls, community: Community, draft: EventDraft
) -> ObjectRow:
    """Publish an event: Create(Event) to followers, its details stored for pages,
    the calendar feed and Join."""
    item = _event(urls, community, new_token(), validate_event(draft), datetime.now(UTC))
    return await store_item(session, item, send=Send(urls, community))


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
    row = await local_object(session, urls, community, ref, ItemKind.EVENT)
    old = current_event(row)
    new = validate_event(change(old))
    if new == old:
        raise Unchanged(f"{row.ap_id}: nothing changed")
    count = await store.count_participants(session, row.id)
    item = _event(
        urls, community, short_id(row), new, row.published,
        updated=datetime.now(UTC), participants=count,
    )  # fmt: skip
    return await revise_item(session, row, item, send=Send(urls, community))
