"""Reading stored items, for those outside ``actors`` (adapters): an item by its id, how
many joined an event, the community that holds it, who wrote it."""

from __future__ import annotations

from dataclasses import dataclass

from actors.community import Community
from actors.store import practice, queries, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow


@dataclass(frozen=True)
class Author:
    """Who wrote a remote item, as far as we know them (None: not known)."""

    ap_id: str
    name: str | None = None
    handle: str | None = None
    url: str | None = None


async def find_item(session: AsyncSession, ap_id: str) -> ObjectRow | None:
    """The item stored under ``ap_id``, withdrawn or not (``deleted_at`` says)."""
    return await social.get_object(session, ap_id)


async def participant_count(session: AsyncSession, row: ObjectRow) -> int:
    """How many joined an event (its ``participantCount``)."""
    return await practice.count_participants(session, row.id)


async def community_of(session: AsyncSession, row: ObjectRow) -> Community | None:
    return await queries.get_community_by_id(session, row.community_id)


async def author_of(session: AsyncSession, row: ObjectRow) -> Author:
    actor = await social.get_remote_actor(session, row.attributed_to)
    if actor is None:
        return Author(row.attributed_to)
    return Author(row.attributed_to, name=actor.name, handle=actor.handle, url=actor.url)
