"""What an inbound handler gets: the app's resources and one write transaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from actors.community import Community
from actors.hooks import ObjectObserver
from actors.inbound.batch import Batch
from actors.store import inbox_queue, queries, social
from actors.store.db import AsyncSession, async_sessionmaker, begin_deferred
from actors.store.models import ObjectRow, RemoteActorRow
from actors.threads.limits import DEFAULT_THREAD_SETTINGS, ThreadSettings
from actors.urls import Urls
from federation.intake import AUDIENCE_KEYS, DEFAULT_LIMITS, Limits, bounded
from federation.vocab import JSON, get_id, has_type, ids

log = logging.getLogger(__name__)

# (actor id, on whose behalf) -> what we know of the actor, fetched if needed
ActorLookup = Callable[[str, Community | None], Awaitable[RemoteActorRow]]
# (object id, on whose behalf) -> the object's JSON, fetched from its origin
ObjectFetch = Callable[[str, Community | None], Awaitable[JSON]]


@dataclass
class InboundContext:
    """One inbox item being processed. ``write()`` commits the handler's changes and marks
    the item done in the same transaction, so an item is applied exactly once; in a batch
    (``actors.inbound.batch``) the batch's transaction does, with the other items'."""

    urls: Urls
    sessions: async_sessionmaker[AsyncSession]
    lookup_actor: ActorLookup
    fetch_object: ObjectFetch
    item_id: int
    recipient_slug: str | None = None
    written: bool = field(default=False)
    # plugins told about stored, edited and deleted posts (actors.hooks), in the transaction
    observers: Sequence[ObjectObserver] = ()
    # how much of a remote document is read ([limits]; federation/intake.py)
    limits: Limits = DEFAULT_LIMITS
    # how much of a conversation is fetched when a reply's parent is missing
    thread_limits: ThreadSettings = DEFAULT_THREAD_SETTINGS
    # the transaction of the batch this item is applied in (None: one of its own)
    batch: Batch | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session to read in: the batch's, which sees what the items before wrote."""
        if self.batch is not None:
            async with self.batch.read() as session:
                yield session
            return
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        if self.batch is not None:  # the batch marks its items done when it commits
            async with self.batch.write() as session:
                yield session
            self.written = True
            return
        # the write lock from the first write on (SQLite): deciding, however long it reads,
        # holds up no one else's writes (the inbox's 202s among them)
        async with begin_deferred(self.sessions) as session:
            yield session
            await inbox_queue.mark_done(session, [self.item_id])
        self.written = True

    async def community_for(self, session: AsyncSession, iri: str | None) -> Community | None:
        slug = self.urls.community_slug_of(iri) if iri else None
        return await queries.get_community(session, slug) if slug else None

    async def target_communities(
        self, session: AsyncSession, activity: JSON, obj: JSON | None
    ) -> list[Community]:
        """Communities an activity is for: the inbox it came to, its addressing, its
        mentions, or the community of the object it replies to. The lists are bounded and
        only the distinct addresses of our own communities are looked up."""
        found: dict[int, Community] = {}
        for slug in self.addressed_slugs(activity, obj):
            community = await queries.get_community(session, slug)
            if community is not None:
                found[community.id] = community
        parent = await self.parent_of(session, obj)
        if parent is not None:
            community = await queries.get_community_by_id(session, parent.community_id)
            if community is not None:
                found[community.id] = community
        return list(found.values())

    def addressed_slugs(self, activity: JSON, obj: JSON | None) -> list[str]:
        """Slugs of our communities an activity names: the inbox it came to, its
        addressing, its mentions (not the thread it replies in); the lists are bounded."""
        candidates: list[str] = []
        if self.recipient_slug:
            candidates.append(self.urls.community(self.recipient_slug))
        for source in (activity, obj or {}):
            for key in AUDIENCE_KEYS:
                candidates.extend(ids(bounded(source.get(key), self.limits.max_audience)))
            for tag in bounded(source.get("tag"), self.limits.max_tags):
                href = get_id(tag.get("href")) if has_type(tag, "Mention") else None
                if href:
                    candidates.append(href)
        slugs = (self.urls.community_slug_of(iri) for iri in dict.fromkeys(candidates))
        return list(dict.fromkeys(s for s in slugs if s))

    async def parent_of(self, session: AsyncSession, obj: JSON | None) -> ObjectRow | None:
        parent_id = get_id((obj or {}).get("inReplyTo"))
        return await social.get_object(session, parent_id) if parent_id else None
