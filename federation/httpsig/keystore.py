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

from ..errors import FederationError, SignatureError
from ..keys import load_public_key
from ..vocab import JSON, as_list, get_id
from .common import PublicKeyInfo, origin_of

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
    """Storage for resolved keys; the caller decides where (memory, database)."""

    async def get(self, key_id: str) -> CachedKey | None: ...

    async def put(self, key_id: str, entry: CachedKey) -> None: ...


class InMemoryKeyCache:
    """A bounded least-recently-used KeyCache in process memory."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, CachedKey] = OrderedDict()
        self._max = max_entries

    async def get(self, key_id: str) -> CachedKey | None:
        entry = self._entries.get(key_id)
        if entry is not None:
            self._entries.move_to_end(key_id)
        return entry

    async def put(self, key_id: str, entry: CachedKey) -> None:
        self._entries[key_id] = entry
        self._entries.move_to_end(key_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class CachingKeyResolver:
    """Cache first (fresh for ``ttl`` seconds), else fetch the key or actor document.

    ``fetch`` is a signed GET returning the JSON document (e.g. FederationClient.fetch_object
    bound to the instance actor's signer). A refresh within ``refresh_cooldown`` seconds of
    the last fetch returns the cached key: a flood of bad signatures cannot turn into a
    flood of fetches. Concurrent resolutions of one key share one fetch.
    """

    def __init__(
        self,
        cache: KeyCache,
        fetch: FetchDocument,
        *,
        ttl: float = 24 * 3600.0,
        refresh_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._fetch = fetch
        self._ttl = ttl
        self._cooldown = refresh_cooldown
        self._clock = clock
        self._inflight: dict[str, asyncio.Task[PublicKeyInfo]] = {}

    async def resolve(self, key_id: str, *, refresh: bool = False) -> PublicKeyInfo:
        entry = await self._cache.get(key_id)
        if entry is not None:
            age = self._clock() - entry.fetched_at
            if (not refresh and age < self._ttl) or (refresh and age < self._cooldown):
                return entry.info
        try:
            return await self._fetch_shared(key_id)
        except FederationError as exc:
            if entry is None or refresh:
                raise
            log.warning("key refetch failed, using the stale copy: %s", exc.reason)
            return entry.info

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
        log.debug("fetching key document %s", url)
        document = await self._fetch(url)
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
        if owner is None or origin_of(owner) != origin_of(doc_id):
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
