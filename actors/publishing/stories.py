"""Stories (what happened): ``Note``s with their full text; a story may be told as a
value-creation story (actors/values.py): its claim in copub's terms and in its text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import EllipsisType

from actors.community import Community
from actors.content import (
    OBJECT_CONTEXT,
    InvalidContent,
    StoryDraft,
    new_token,
    story_html,
    story_to_note,
    validate_story,
)
from actors.items import Item, ItemKind, Send, community_item, revise_item, store_item
from actors.publishing.common import local_object, short_id
from actors.store import links, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls
from actors.values import (
    VALUE_TERMS,
    ValueClaim,
    about_html,
    claim_from_object,
    claim_html,
    claim_terms,
    validate_claim,
)
from federation.vocab import AS_CONTEXT

VALUE_CONTEXT = [AS_CONTEXT, {**OBJECT_CONTEXT[1], **VALUE_TERMS}]


def _story(
    urls: Urls,
    community: Community,
    oid: str,
    draft: StoryDraft,
    published: datetime,
    updated: datetime | None = None,
    value: ValueClaim | None = None,
) -> Item:
    note = story_to_note(
        urls=urls, slug=community.slug, oid=oid, draft=draft, published=published, updated=updated
    )
    text = story_html(draft)
    if value is not None:
        head = story_html(replace(draft, markdown=""))
        text = head + claim_html(value) + text[len(head) :] + about_html(value)
        note.update({"@context": VALUE_CONTEXT, "content": text, **claim_terms(value)})
    item = community_item(urls, community, ItemKind.STORY, note, published, updated)
    return replace(
        item, title=draft.title, content_html=text, source_markdown=draft.markdown, value=value
    )


async def _checked(
    session: AsyncSession, urls: Urls, community: Community, value: ValueClaim | None
) -> ValueClaim | None:
    """The claim checked; each item it is about must be one of this community (its own or
    a member's) or one that came over its links (given by URL or, for its own, by id)."""
    if value is None:
        return None
    value = validate_claim(
        replace(value, about=tuple(_full(urls, community, ref) for ref in value.about))
    )
    for url in value.about:
        row = await social.get_object(session, url)
        held = row is not None and row.deleted_at is None and (
            row.community_id == community.id or await links.has_item(session, community.id, row.id)
        )  # fmt: skip
        if not held:
            raise InvalidContent(
                "valueAbout", f"{url} is not an item of {community.slug} or of a linked community"
            )
    return value


def _full(urls: Urls, community: Community, ref: str) -> str:
    ref = ref.strip()
    if not ref or ref.startswith(("http://", "https://")) or ":" in ref or "/" in ref:
        return ref
    return urls.object(community.slug, ref)


async def publish_story(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    draft: StoryDraft,
    value: ValueClaim | None = None,
) -> ObjectRow:
    """Publish a story (Create(Note) to followers); with ``value``, as a value-creation
    story of its cycle."""
    draft = validate_story(draft)
    value = await _checked(session, urls, community, value)
    item = _story(urls, community, new_token(), draft, datetime.now(UTC), value=value)
    return await store_item(session, item, send=Send(urls, community))


def current_claim(row: ObjectRow) -> ValueClaim | None:
    """The claim of a published story, as it was sent."""
    return claim_from_object(row.ap_json)


async def edit_story(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    ref: str,
    *,
    title: str | None,
    markdown: str | None,
    value: ValueClaim | EllipsisType | None = ...,
) -> ObjectRow:
    """Change what is given (None: keep the title or text; ``value`` ``...``: keep the
    claim, None: no longer a value-creation story)."""
    row = await local_object(session, urls, community, ref, ItemKind.STORY)
    draft = validate_story(
        StoryDraft(
            title=title if title is not None else row.title or "",
            markdown=markdown if markdown is not None else row.source_markdown or "",
        )
    )
    claim = current_claim(row) if isinstance(value, EllipsisType) else value
    claim = await _checked(session, urls, community, claim)
    item = _story(urls, community, short_id(row), draft, row.published, datetime.now(UTC), claim)
    return await revise_item(session, row, item, send=Send(urls, community))
