"""Remote actors, objects and keys, fetched with signed GETs and remembered in the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import admin
from actors.community import Community
from actors.store import social
from actors.store.models import RemoteActorRow, RemoteKeyRow
from actors.urls import Urls
from federation.client import FederationClient
from federation.errors import FetchError
from federation.httpsig import CachedKey, InMemoryKeyCache, PublicKeyInfo
from federation.keys import Signer
from federation.resolve import subscribe_template, webfinger
from federation.vocab import JSON, get_id

log = logging.getLogger(__name__)

ACTOR_TTL = timedelta(days=1)


class SqlKeyCache:
    """KeyCache persisted in ``remote_keys``, with a bounded in-process LRU in front."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._memory = InMemoryKeyCache()

    async def get(self, key_id: str) -> CachedKey | None:
        entry = await self._memory.get(key_id)
        if entry is not None:
            return entry
        async with self._sessions() as session:
            row = await session.get(RemoteKeyRow, key_id)
        if row is None:
            return None
        entry = CachedKey(
            PublicKeyInfo(row.key_id, row.owner, row.public_key_pem), row.fetched_at.timestamp()
        )
        await self._memory.put(key_id, entry)
        return entry

    async def put(self, key_id: str, entry: CachedKey) -> None:
        await self._memory.put(key_id, entry)
        async with self._sessions.begin() as session:
            await session.merge(
                RemoteKeyRow(
                    key_id=key_id,
                    owner=entry.info.owner,
                    public_key_pem=entry.info.public_key_pem,
                    fetched_at=datetime.fromtimestamp(entry.fetched_at, UTC),
                )
            )


def actor_row(document: JSON) -> RemoteActorRow:
    actor_id = get_id(document)
    inbox = get_id(document.get("inbox"))
    if not actor_id or not inbox:
        raise FetchError(f"{actor_id or 'the document'} is not an actor with an inbox")
    endpoints = document.get("endpoints")
    shared = get_id(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    username = document.get("preferredUsername")
    host = actor_id.split("://", 1)[-1].split("/", 1)[0]
    return RemoteActorRow(
        ap_id=actor_id,
        inbox=inbox,
        shared_inbox=shared,
        handle=f"{username}@{host}" if isinstance(username, str) else None,
        name=document.get("name") if isinstance(document.get("name"), str) else None,
        url=get_id(document.get("url")),
        actor_type=str(document.get("type", "Person"))[:40],
        ap_json=document,
        fetched_at=datetime.now(UTC),
    )


class Remote:
    """Signed fetching on behalf of a community (or of the server's Application actor)."""

    def __init__(
        self,
        client: FederationClient,
        sessions: async_sessionmaker[AsyncSession],
        urls: Urls,
        server_signer: Signer,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.urls = urls
        self.server_signer = server_signer

    def signer_for(self, community: Community | None) -> Signer:
        if community is None:
            return self.server_signer
        return admin.community_signer(community, self.urls)

    async def fetch_object(self, url: str, community: Community | None = None) -> JSON:
        return await self.client.fetch_object(url, self.signer_for(community))

    async def fetch_key_document(self, url: str) -> JSON:
        return await self.client.fetch_object(url, self.server_signer)

    async def lookup_actor(
        self, actor_id: str, community: Community | None = None
    ) -> RemoteActorRow:
        async with self.sessions() as session:
            row = await social.get_remote_actor(session, actor_id)
        if row is not None and datetime.now(UTC) - row.fetched_at < ACTOR_TTL:
            return row
        document = await self.fetch_object(actor_id, community)
        fresh = actor_row(document)
        if fresh.ap_id != actor_id:
            raise FetchError(f"{actor_id} answered with another actor id")
        async with self.sessions.begin() as session:
            merged = await social.upsert_remote_actor(session, fresh)
        return merged

    async def subscribe_template(self, account: str) -> str:
        """The OStatus subscribe template of ``you@your.server`` (for the follow form)."""
        template = subscribe_template(await webfinger(self.client, account))
        if template is None:
            raise FetchError(f"{account}'s server offers no remote follow")
        return template
