"""What every kind shares: finding a published item, and deleting it (``actors.items``
stores, revises and withdraws)."""

from __future__ import annotations

from actors.community import Community
from actors.errors import Conflict, NotFound
from actors.items import Send, withdraw_item
from actors.store import social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls


class NotPublished(NotFound):
    """No such item of this community (or it was deleted, or is of another kind)."""

    field = "object"


class WrongKind(NotPublished):
    """The item exists but is of another kind (editing a story as a practice)."""

    http_status = 400
    field = "type"


class Unchanged(Conflict):
    """An edit that changes nothing: no Update is sent, no revision is saved. Not a
    failure: the callers that edit answer it as one that went through."""


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def oid_of(urls: Urls, community: Community, ref: str) -> str:
    """Accept an object's full URL or just its last path segment; the full URL."""
    return ref if ref.startswith(("http://", "https://")) else urls.object(community.slug, ref)


def short_id(row: ObjectRow) -> str:
    """The last path segment of a local item's id (``/c/slug/o/<this>``)."""
    return row.ap_id.rsplit("/", 1)[-1]


async def local_object(
    session: AsyncSession, urls: Urls, community: Community, ref: str, kind: str | None = None
) -> ObjectRow:
    row = await social.get_object(session, oid_of(urls, community, ref))
    if row is None or not row.local or row.community_id != community.id or row.deleted_at:
        raise NotPublished(f"{community.slug} has no published item {ref!r}")
    if kind is not None and row.kind != kind:
        raise WrongKind(f"{ref!r} is {_a(row.kind)}, not {_a(kind)}")
    return row


async def delete_item(
    session: AsyncSession, urls: Urls, community: Community, ref: str
) -> ObjectRow:
    """Delete a story, practice or event: followers get Delete, its URL answers 410."""
    row = await local_object(session, urls, community, ref)
    return await withdraw_item(session, row, send=Send(urls, community))
