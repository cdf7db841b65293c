"""Finding the public key behind a ``keyId``: the resolver port and a caching resolver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urldefrag

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.delivery.slots import HostSlots
from federation.errors import FederationError, SignatureError
from federation.httpsig.common import PublicKeyInfo
from federation.keys import load_public_key
from federation.origins import origin_text, same_origin
from federation.vocab import JSON, as_list, get_id

log = logging.getLogger(__name__)

FetchDocument = Callable[[str], Awaitable[JSON]]
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_MULTICODEC = b"\xed\x01"


class KeyResolver(Protocol):
    """Gives the public key for a ``keyId``; ``refresh=True`` asks for a fresh copy."""

    async def resolve(self, key_id: str, *, refresh: bool = False) -> PublicKeyInfo: ...


@dataclass(frozen=True, slots=True)
class CachedKey:
    info: PublicKeyInfo
    fetched_at: float


class KeyCache(Protocol):
    """Storage for resolved keys; the caller decides where (memory, database).

    ``latest`` is for a store that several processes share, each with a copy in memory:
    the entry as the shared store has it now (another process may have fetched the key
    again), or this process's own when that is newer. A store of one process returns what
    ``get`` returns."""

    async def get(self, key_id: str) -> CachedKey | None: ...

    async def latest(self, key_id: str) -> CachedKey | None: ...

    async def put(self, key_id: str, entry: CachedKey) -> None: ...


class InMemoryKeyCache:
    """A bounded least-recently-used KeyCache in process memory."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, CachedKey] = OrderedDict()
        self._max = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key_id: str) -> CachedKey | None:
        entry = self._entries.get(key_id)
        if entry is not None:
            self._entries.move_to_end(key_id)
        return entry

    async def latest(self, key_id: str) -> CachedKey | None:
        return await self.get(key_id)

    async def put(self, key_id: str, entry: CachedKey) -> None:
        self._entries[key_id] = entry
        self._entries.move_to_end(key_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class KeyFetchBusy(FederationError):
    """Too many key fetches are under way (for the key's host, or in all): 503, try later.

    A request whose key is not cached gets this at once rather than waiting behind fetches
    from other hosts; a sender retries a 503 (a 401 would make it drop the activity)."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class KeyFetchLimits:
    """How many key fetches may be under way: ``per_host`` at once and ``queue_per_host``
    more waiting for each host, ``total`` (running and waiting) over all hosts. Beyond any
    of them a fetch fails at once with :class:`KeyFetchBusy`; nothing waits for a slot of
    another host, so a host that never answers delays no other."""

    per_host: int = 4
    queue_per_host: int = 16
    total: int = 256


class CachingKeyResolver:
    """Cache first (fresh for ``ttl`` seconds), else fetch the key or actor document.

    ``fetch`` is a signed GET returning the JSON document (e.g. FederationClient.fetch_object
    bound to the instance actor's signer). A refresh (asked for when a signature fails with
    the cached key: the owner may have a new one) first looks whether the cache's shared
    store has another key by now (``KeyCache.latest``: another process of a fleet fetched it
    again) and takes that one. Otherwise it fetches the key again at most once per
    ``refresh_cooldown`` seconds per key id, so a key rotation costs one fetch and a flood of
    bad signatures cannot turn into a flood of fetches; within the cooldown the cached key
    is returned. Concurrent resolutions of one key share one fetch; fetches are bounded per
    host and in all (``limits``).

    ``observe`` (metrics) is told how each lookup went: ``hit`` (the cached key, no
    fetch), ``miss`` (not cached), ``expired`` (cached longer than ``ttl``), ``shared`` (a
    failed signature found the key another process fetched again) or ``refresh`` (a failed
    signature fetches the key again).
    """

    def __init__(
        self,
        cache: KeyCache,
        fetch: FetchDocument,
        *,
        ttl: float = 24 * 3600.0,
        refresh_cooldown: float = 60.0,
        limits: KeyFetchLimits = KeyFetchLimits(),
        clock: Callable[[], float] = time.time,
        max_tracked: int = 10_000,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self._cache = cache
        self._observe = observe
        self._fetch = fetch
        self._ttl = ttl
        self._cooldown = refresh_cooldown
        self._limits = limits
        self._clock = clock
        self._max_tracked = max_tracked
        self._inflight: dict[str, asyncio.Task[PublicKeyInfo]] = {}
        self._refreshed: OrderedDict[str, float] = OrderedDict()  # key id -> last refresh
        self._hosts = HostSlots(limits.per_host)
        self._fetching = 0  # fetches running or waiting for their host's slot

    @property
    def busy_hosts(self) -> int:
        """Hosts with a key fetch running or waiting (their state is dropped after)."""
        return len(self._hosts)

    async def resolve(self, key_id: str, *, refresh: bool = False) -> PublicKeyInfo:
        entry = await self._cache.get(key_id)
        if entry is not None:
            if refresh:
                shared = await self._cache.latest(key_id)
                if shared is not None and shared.info.public_key_pem != entry.info.public_key_pem:
                    self._observed("shared")
                    return shared.info
                if not self._may_refresh(key_id):
                    self._observed("hit")
                    return entry.info
            elif self._clock() - entry.fetched_at < self._ttl:
                self._observed("hit")
                return entry.info
        self._observed("miss" if entry is None else "refresh" if refresh else "expired")
        try:
            return await self._fetch_shared(key_id)
        except FederationError as exc:
            if refresh and isinstance(exc, KeyFetchBusy):
                self._refreshed.pop(key_id, None)  # nothing was fetched: not a refresh
            if entry is None or refresh:
                raise
            log.warning("key refetch failed, using the stale copy: %s", exc.reason)
            return entry.info

    def _observed(self, result: str) -> None:
        if self._observe is not None:
            self._observe(result)

    def _may_refresh(self, key_id: str) -> bool:
        """Whether ``key_id`` may be fetched again now (then it counts as refreshed)."""
        now = self._clock()
        last = self._refreshed.pop(key_id, None)
        if last is not None and now - last < self._cooldown:
            self._refreshed[key_id] = last
            return False
        while self._refreshed and (
            len(self._refreshed) >= self._max_tracked
            or now - next(iter(self._refreshed.values())) >= self._cooldown
        ):
            self._refreshed.popitem(last=False)  # oldest first: expired, or too many
        self._refreshed[key_id] = now
        return True

    async def _fetch_shared(self, key_id: str) -> PublicKeyInfo:
        task = self._inflight.get(key_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch_and_store(key_id))
            self._inflight[key_id] = task
            task.add_done_callback(lambda done: self._forget(key_id, done))
        return await asyncio.shield(task)

    def _forget(self, key_id: str, task: asyncio.Task[PublicKeyInfo]) -> None:
        if self._inflight.get(key_id) is task:
            del self._inflight[key_id]
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning if nobody waits

    async def _fetch_and_store(self, key_id: str) -> PublicKeyInfo:
        url = urldefrag(key_id).url
        host = origin_text(url)
        limits = self._limits
        if self._fetching >= limits.total:
            raise KeyFetchBusy(f"too many key fetches under way to fetch {key_id}")
        if self._hosts.load(host) >= limits.per_host + limits.queue_per_host:
            raise KeyFetchBusy(f"too many key fetches under way from {host}")
        self._fetching += 1
        try:
            async with self._hosts.hold(host):
                log.debug("fetching key document %s", url)
                document = await self._fetch(url)
        finally:
            self._fetching -= 1
        info = extract_public_key(document, key_id)
        await self._cache.put(key_id, CachedKey(info, self._clock()))
        return info


def extract_public_key(document: JSON, key_id: str) -> PublicKeyInfo:
    """The key ``key_id`` from a key document or an actor document.

    An actor document owns the keys it embeds (``publicKey``, or Multikey entries in
    ``assertionMethod``); a standalone key document names its ``owner``/``controller``,
    which must be on the key's own origin.
    """
    doc_id = get_id(document)
    if doc_id is None:
        raise SignatureError(f"the document for key {key_id} has no id")
    if "publicKeyPem" in document or "publicKeyMultibase" in document:
        owner = get_id(document.get("owner")) or get_id(document.get("controller"))
        if owner is None or not same_origin(owner, doc_id):
            raise SignatureError(f"key {key_id} has no owner on its own origin")
        if doc_id != key_id:
            raise SignatureError(f"fetched key {doc_id} is not {key_id}")
        return PublicKeyInfo(key_id, owner, _pem_of(document, key_id))
    candidates = [
        entry
        for entry in as_list(document.get("publicKey")) + as_list(document.get("assertionMethod"))
        if isinstance(entry, dict)
    ]
    for entry in candidates:
        if entry.get("id") == key_id or (key_id == doc_id and len(candidates) == 1):
            owner = get_id(entry.get("owner")) or get_id(entry.get("controller")) or doc_id
            if owner != doc_id:
                raise SignatureError(f"key {key_id} is not owned by the actor embedding it")
            return PublicKeyInfo(key_id, doc_id, _pem_of(entry, key_id))
    raise SignatureError(f"key {key_id} was not found in {doc_id}")


def _pem_of(entry: dict[str, Any], key_id: str) -> str:
    pem = entry.get("publicKeyPem")
    if not isinstance(pem, str):
        pem = _multibase_to_pem(entry.get("publicKeyMultibase"))
    if pem is None:
        raise SignatureError(f"key {key_id} has no usable key material")
    try:
        load_public_key(pem)
    except ValueError as exc:
        raise SignatureError(f"key {key_id} is not a usable RSA or Ed25519 key") from exc
    return pem


def _multibase_to_pem(value: Any) -> str | None:
    """An Ed25519 Multikey (``z6Mk...``, FEP-521a) as SubjectPublicKeyInfo PEM."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 128:
        return None
    number = 0
    for char in value[1:]:
        digit = _B58.find(char)
        if digit < 0:
            return None
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(value[1:]) - len(value[1:].lstrip("1"))) + raw
    if len(raw) != 34 or not raw.startswith(_ED25519_MULTICODEC):
        return None
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
