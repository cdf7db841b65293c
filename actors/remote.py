"""Remote actors, objects and keys, fetched with signed GETs and remembered in the database;
and the HTTP client every fetch and delivery goes through, built from the settings."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from actors import signing
from actors.community import Community
from actors.settings import Settings
from actors.store import social
from actors.store.db import AsyncSession, async_sessionmaker, in_background
from actors.store.loop_reads import LoopReads
from actors.store.models import RemoteActorRow
from actors.urls import Urls
from federation.client import FederationClient
from federation.errors import FetchError
from federation.httpsig import CachedKey, InMemoryKeyCache, PublicKeyInfo
from federation.httpsig.knock import SchemeMemory
from federation.intake import DEFAULT_LIMITS, Limits, bound_document, first_url, safe_url
from federation.keys import Signer
from federation.resolve import subscribe_template, webfinger
from federation.vocab import JSON, get_id, types_of

log = logging.getLogger(__name__)

ACTOR_TTL = timedelta(days=1)


def federation_client(
    settings: Settings,
    *,
    timeout_seconds: float | None = None,
    limit: int = 100,
    limit_per_host: int = 8,
    schemes: SchemeMemory | None = None,
) -> FederationClient:
    """A client as ``[federation]`` says: its user agent, private addresses refused unless
    allowed, its body cap and CA file, WebFinger over the scheme of the server's own
    ``base_url``; the fetch timeout unless ``timeout_seconds`` is given, and a connection
    pool of ``limit`` connections, ``limit_per_host`` to one host. Signed requests knock
    first with ``signature_scheme``; ``schemes``: what another client of the process learnt
    of which peer takes which (one memory per process)."""
    fed = settings.federation
    return FederationClient(
        fed.user_agent,
        timeout_seconds=fed.fetch_timeout_seconds if timeout_seconds is None else timeout_seconds,
        allow_private_addresses=fed.allow_private_addresses,
        max_body=fed.max_body_bytes,
        webfinger_scheme=urlsplit(settings.server.base_url).scheme,
        ca_file=fed.ca_file or None,
        limit=limit,
        limit_per_host=limit_per_host,
        signature_scheme=fed.first_knock,
        schemes=schemes,
    )


class SqlKeyCache:
    """KeyCache persisted in ``remote_keys``, with an in-process LRU of ``max_entries``
    keys in front ([federation] key_cache_entries).

    Keys are written behind: ``put`` keeps the key in memory and returns, and the keys put
    meanwhile are written together by one background task (``in_background``: on SQLite
    it takes the write lock after the requests waiting for it). The request whose
    signature needed the key goes on at once: under bench/bench_hostile.py its key's write
    waited for the lock behind the relays' batches, then its inbox row waited again. Until
    written, ``get`` finds them here; ``flush()`` writes what is left (at shutdown). A write
    that fails is logged and not retried: the key stays in memory, and a restart fetches
    it again. A write never replaces a row fetched later than its own key.

    Several processes on PostgreSQL (``shared``, the default there) each keep keys in
    memory. When a peer's key changes, a signature that fails with the key in memory reads
    the row again (``latest``): a key another process fetched meanwhile is taken from it,
    not fetched once more, and not missed while this process's refetch cooldown runs. On
    SQLite one process uses the database, and memory is never behind it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_entries: int = 2_000,
        shared: bool | None = None,
        reads: LoopReads | None = None,
    ) -> None:
        self._sessions = sessions
        self._reads = reads or LoopReads(sessions, None)  # on SQLite: on the loop
        if shared is None:
            bind = sessions.kw.get("bind")
            shared = bind is not None and bind.dialect.name != "sqlite"
        self._shared = shared
        self._memory = InMemoryKeyCache(max_entries)
        self._unsaved: dict[str, CachedKey] = {}
        self._saving: asyncio.Task[None] | None = None

    @property
    def in_memory(self) -> int:
        """Keys held in memory (the database holds them all)."""
        return len(self._memory)

    async def get(self, key_id: str) -> CachedKey | None:
        entry = await self._memory.get(key_id) or self._unsaved.get(key_id)
        if entry is not None:
            return entry
        entry = await self._stored(key_id)
        if entry is not None:
            await self._memory.put(key_id, entry)
        return entry

    async def latest(self, key_id: str) -> CachedKey | None:
        """The newer of the key in memory and its row (only the memory when not shared)."""
        mine = await self._memory.get(key_id) or self._unsaved.get(key_id)
        if not self._shared:
            return mine
        stored = await self._stored(key_id)
        if stored is None or (mine is not None and mine.fetched_at >= stored.fetched_at):
            return mine
        await self._memory.put(key_id, stored)
        return stored

    async def _stored(self, key_id: str) -> CachedKey | None:
        row = await self._reads.remote_key(key_id)
        if row is None:
            return None
        info = PublicKeyInfo(row.key_id, row.owner, row.public_key_pem)
        return CachedKey(info, row.fetched_at.timestamp())

    async def put(self, key_id: str, entry: CachedKey) -> None:
        await self._memory.put(key_id, entry)
        self._unsaved[key_id] = entry
        if self._saving is None:
            self._saving = asyncio.create_task(in_background(self._save()), name="save-keys")

    async def flush(self) -> None:
        """Return once every key put so far is written (or its write failed)."""
        while self._saving is not None:
            await asyncio.shield(self._saving)

    async def _save(self) -> None:
        try:
            while self._unsaved:
                batch = dict(self._unsaved)  # they stay visible to get() until committed
                try:
                    async with self._sessions.begin() as session:
                        await social.save_remote_keys(
                            session, [_key_values(k, e) for k, e in batch.items()]
                        )
                except Exception:
                    log.exception("could not write %d fetched keys; kept in memory", len(batch))
                for key_id, entry in batch.items():
                    if self._unsaved.get(key_id) is entry:  # not put again meanwhile
                        del self._unsaved[key_id]
        finally:
            self._saving = None


def _key_values(key_id: str, entry: CachedKey) -> dict[str, object]:
    return {
        "key_id": key_id,
        "owner": entry.info.owner,
        "public_key_pem": entry.info.public_key_pem,
        "fetched_at": datetime.fromtimestamp(entry.fetched_at, UTC),
    }


def actor_row(document: JSON, limits: Limits = DEFAULT_LIMITS) -> RemoteActorRow:
    """What we keep of an actor document; its URLs checked (federation/intake.py)."""
    actor_id = safe_url(get_id(document), max_length=limits.max_url_length)
    inbox = safe_url(get_id(document.get("inbox")), max_length=limits.max_url_length)
    if not actor_id or not inbox:
        raise FetchError(f"{get_id(document) or 'the document'} is not an actor with an inbox")
    endpoints = document.get("endpoints")
    shared = get_id(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    username, name = document.get("preferredUsername"), document.get("name")
    host = actor_id.split("://", 1)[-1].split("/", 1)[0]
    types = sorted(types_of(document))  # a string or a list (JSON-LD allows both)
    return RemoteActorRow(
        ap_id=actor_id,
        inbox=inbox,
        shared_inbox=safe_url(shared, max_length=limits.max_url_length),
        handle=f"{username}@{host}"[:500] if isinstance(username, str) else None,
        name=name[:500] if isinstance(name, str) else None,
        url=first_url(document.get("url"), max_length=limits.max_url_length),
        actor_type=("Group" if "Group" in types else types[0] if types else "Person")[:40],
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
        *,
        limits: Limits = DEFAULT_LIMITS,
        key_client: FederationClient | None = None,
    ) -> None:
        self.client = client
        self.key_client = key_client or client  # key fetches: a pool of their own (app.py)
        self.sessions = sessions
        self.urls = urls
        self.server_signer = server_signer
        self.limits = limits

    def signer_for(self, community: Community | None) -> Signer:
        if community is None:
            return self.server_signer
        return signing.community_signer(community, self.urls)

    async def fetch_object(self, url: str, community: Community | None = None) -> JSON:
        """The document at ``url``, its lists bounded (federation/intake.py)."""
        document = await self.client.fetch_object(url, self.signer_for(community))
        return bound_document(document, self.limits)

    async def fetch_key_document(self, url: str) -> JSON:
        return await self.key_client.fetch_object(url, self.server_signer)

    async def lookup_actor(
        self, actor_id: str, community: Community | None = None
    ) -> RemoteActorRow:
        async with self.sessions() as session:
            row = await social.get_remote_actor(session, actor_id)
        if row is not None and datetime.now(UTC) - row.fetched_at < ACTOR_TTL:
            return row
        document = await self.fetch_object(actor_id, community)
        fresh = actor_row(document, self.limits)
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
