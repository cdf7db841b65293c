"""Key resolution: cache, TTL, rotation (refetch once), key documents, unreachable hosts."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization

from federation.errors import FetchError, SignatureError
from federation.httpsig import (
    CachedKey,
    CachingKeyResolver,
    InMemoryKeyCache,
    KeyFetchBusy,
    KeyFetchLimits,
    PublicKeyInfo,
    extract_public_key,
    sign_request,
    verify_request,
)
from federation.keys import load_public_key
from federation.vocab import JSON
from tests.federation.fedkit import ACTOR, KEY_ID, KeyPair, as2, sign_rfc9421

BODY = b'{"type":"Like","actor":"https://remote.example/users/ana"}'


def actor_document(pair: KeyPair, actor: str = ACTOR, key_id: str = KEY_ID) -> JSON:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor,
        "type": "Person",
        "inbox": f"{actor}/inbox",
        "publicKey": {"id": key_id, "owner": actor, "publicKeyPem": pair.public_pem},
    }


class FakeFetch:
    """Serves documents by URL and counts fetches."""

    def __init__(self, documents: dict[str, JSON]) -> None:
        self.documents = documents
        self.fetched: list[str] = []

    async def __call__(self, url: str) -> JSON:
        self.fetched.append(url)
        if url not in self.documents:
            raise FetchError(f"{url} answered HTTP 404")
        return self.documents[url]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _request(pair: KeyPair) -> dict[str, str]:
    return sign_request("POST", "https://copub.example/inbox", {}, BODY, pair.signer())


async def _verify(headers: dict[str, str], resolver: Any) -> Any:
    return await verify_request("POST", "/inbox", headers, BODY, resolver)


async def test_first_use_fetches_the_actor_and_caches_the_key(rsa_pair: KeyPair) -> None:
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    cache = InMemoryKeyCache()
    resolver = CachingKeyResolver(cache, fetch)
    for _ in range(3):
        verified = await _verify(_request(rsa_pair), resolver)
        assert verified.owner == ACTOR
    assert fetch.fetched == [ACTOR]  # fragment dropped, fetched once
    cached = await cache.get(KEY_ID)
    assert cached is not None
    assert cached.info.public_key_pem == rsa_pair.public_pem


async def test_key_rotation_refetches_once_and_succeeds(
    rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    """The cache holds the old key; the actor now publishes a new one."""
    clock = Clock()
    cache = InMemoryKeyCache()
    stale = PublicKeyInfo(KEY_ID, ACTOR, other_rsa_pair.public_pem)
    await cache.put(KEY_ID, CachedKey(stale, clock.now - 600))
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    resolver = CachingKeyResolver(cache, fetch, clock=clock)
    verified = await _verify(_request(rsa_pair), resolver)
    assert verified.owner == ACTOR
    assert fetch.fetched == [ACTOR]
    refreshed = await cache.get(KEY_ID)
    assert refreshed is not None
    assert refreshed.info.public_key_pem == rsa_pair.public_pem


async def test_a_bad_signature_refetches_only_once(
    rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    clock = Clock()
    cache = InMemoryKeyCache()
    await cache.put(KEY_ID, CachedKey(PublicKeyInfo(KEY_ID, ACTOR, rsa_pair.public_pem), 0.0))
    clock.now = 600.0  # within the TTL, past the refresh cooldown
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    resolver = CachingKeyResolver(cache, fetch, clock=clock)
    forged = _request(other_rsa_pair)
    with pytest.raises(SignatureError, match="does not verify"):
        await _verify(forged, resolver)
    assert fetch.fetched == [ACTOR]
    with pytest.raises(SignatureError, match="does not verify"):
        await _verify(forged, resolver)
    assert fetch.fetched == [ACTOR]  # the second failure falls within the cooldown


async def test_a_key_rotated_right_after_it_was_fetched_is_refetched(
    rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    """The owner got a new key seconds after we fetched the old one: one request, one fetch."""
    clock = Clock()
    cache = InMemoryKeyCache()
    old = PublicKeyInfo(KEY_ID, ACTOR, other_rsa_pair.public_pem)
    await cache.put(KEY_ID, CachedKey(old, clock.now - 5))
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    resolver = CachingKeyResolver(cache, fetch, refresh_cooldown=60.0, clock=clock)
    verified = await _verify(_request(rsa_pair), resolver)
    assert verified.owner == ACTOR
    assert fetch.fetched == [ACTOR]


async def test_refreshes_are_limited_per_key_from_the_last_refresh(
    rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    clock = Clock()
    cache = InMemoryKeyCache()
    fetched_at = clock.now - 600
    await cache.put(
        KEY_ID, CachedKey(PublicKeyInfo(KEY_ID, ACTOR, rsa_pair.public_pem), fetched_at)
    )
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    resolver = CachingKeyResolver(cache, fetch, refresh_cooldown=60.0, clock=clock)
    forged = _request(other_rsa_pair)
    for _ in range(3):  # one refetch, then the cached key within the cooldown
        with pytest.raises(SignatureError, match="does not verify"):
            await _verify(forged, resolver)
    assert fetch.fetched == [ACTOR]
    clock.now += 59
    with pytest.raises(SignatureError):
        await _verify(forged, resolver)
    assert fetch.fetched == [ACTOR]
    clock.now += 1  # a cooldown after the last refresh: one more
    with pytest.raises(SignatureError):
        await _verify(forged, resolver)
    assert fetch.fetched == [ACTOR, ACTOR]


class HangingFetch:
    """Fetches that wait until released; counts the ones started."""

    def __init__(self, pair: KeyPair) -> None:
        self.pair = pair
        self.started: list[str] = []
        self.release = asyncio.Event()
        self._changed = asyncio.Condition()

    async def __call__(self, url: str) -> JSON:
        async with self._changed:
            self.started.append(url)
            self._changed.notify_all()
        await self.release.wait()
        return actor_document(self.pair, url, url + "#main-key")

    async def until_started(self, count: int) -> None:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self.started) >= count)


async def test_key_fetches_are_bounded_per_host_and_refused_at_once_beyond(
    rsa_pair: KeyPair,
) -> None:
    fetch = HangingFetch(rsa_pair)
    limits = KeyFetchLimits(per_host=2, queue_per_host=3, total=100)
    resolver = CachingKeyResolver(InMemoryKeyCache(), fetch, limits=limits)
    slow = [
        asyncio.create_task(resolver.resolve(f"https://slow.example/u{n}#main-key"))
        for n in range(5)
    ]
    await fetch.until_started(2)  # two running, three waiting for slow.example
    with pytest.raises(KeyFetchBusy, match=r"slow\.example"):
        await resolver.resolve("https://slow.example/u5#main-key")
    other = asyncio.create_task(resolver.resolve("https://other.example/u#main-key"))
    await fetch.until_started(3)  # another host's fetch started without waiting
    assert fetch.started[-1] == "https://other.example/u"
    assert len(fetch.started) == 3
    assert resolver.busy_hosts == 2
    fetch.release.set()
    await asyncio.gather(*slow, other)
    assert len(fetch.started) == 6
    assert resolver.busy_hosts == 0  # no state kept for hosts nothing waits for


async def test_key_fetches_are_bounded_in_all(rsa_pair: KeyPair) -> None:
    fetch = HangingFetch(rsa_pair)
    limits = KeyFetchLimits(per_host=1, queue_per_host=0, total=3)
    resolver = CachingKeyResolver(InMemoryKeyCache(), fetch, limits=limits)
    running = [
        asyncio.create_task(resolver.resolve(f"https://h{n}.example/u#main-key")) for n in range(3)
    ]
    await fetch.until_started(3)
    with pytest.raises(KeyFetchBusy, match="too many key fetches"):
        await resolver.resolve("https://h3.example/u#main-key")
    fetch.release.set()
    await asyncio.gather(*running)
    assert (await resolver.resolve("https://h3.example/u#main-key")).owner.startswith("https://h3")


async def test_a_busy_refetch_keeps_a_stale_key(rsa_pair: KeyPair) -> None:
    """Expired but cached: while its host is busy the stale copy serves."""
    clock = Clock()
    cache = InMemoryKeyCache()
    await cache.put(KEY_ID, CachedKey(PublicKeyInfo(KEY_ID, ACTOR, rsa_pair.public_pem), 0.0))
    fetch = HangingFetch(rsa_pair)
    limits = KeyFetchLimits(per_host=1, queue_per_host=0, total=1)
    resolver = CachingKeyResolver(cache, fetch, ttl=100.0, limits=limits, clock=clock)
    hanging = asyncio.create_task(resolver.resolve("https://remote.example/other#main-key"))
    await fetch.until_started(1)
    assert (await resolver.resolve(KEY_ID)).public_key_pem == rsa_pair.public_pem
    fetch.release.set()
    await hanging


async def test_a_refresh_refused_as_busy_does_not_count(
    rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    """The sender retries a 503: its rotated key must then still be fetched."""
    clock = Clock()
    cache = InMemoryKeyCache()
    old = PublicKeyInfo(KEY_ID, ACTOR, other_rsa_pair.public_pem)
    await cache.put(KEY_ID, CachedKey(old, clock.now - 5))
    fetch = HangingFetch(rsa_pair)
    limits = KeyFetchLimits(per_host=1, queue_per_host=0, total=100)
    resolver = CachingKeyResolver(cache, fetch, limits=limits, clock=clock)
    hanging = asyncio.create_task(resolver.resolve("https://remote.example/other#main-key"))
    await fetch.until_started(1)  # remote.example's one slot is taken
    with pytest.raises(KeyFetchBusy):
        await _verify(_request(rsa_pair), resolver)
    fetch.release.set()
    await hanging
    verified = await _verify(_request(rsa_pair), resolver)  # the retry, within the cooldown
    assert verified.owner == ACTOR


async def test_expired_entries_are_refetched(rsa_pair: KeyPair) -> None:
    clock = Clock()
    fetch = FakeFetch({ACTOR: actor_document(rsa_pair)})
    resolver = CachingKeyResolver(InMemoryKeyCache(), fetch, ttl=100.0, clock=clock)
    await resolver.resolve(KEY_ID)
    clock.now += 99
    await resolver.resolve(KEY_ID)
    assert len(fetch.fetched) == 1
    clock.now += 2
    await resolver.resolve(KEY_ID)
    assert len(fetch.fetched) == 2


async def test_a_failed_refetch_keeps_the_stale_key(rsa_pair: KeyPair) -> None:
    clock = Clock()
    cache = InMemoryKeyCache()
    await cache.put(KEY_ID, CachedKey(PublicKeyInfo(KEY_ID, ACTOR, rsa_pair.public_pem), 0.0))
    clock.now = 10 * 24 * 3600.0
    resolver = CachingKeyResolver(cache, FakeFetch({}), clock=clock)
    assert (await resolver.resolve(KEY_ID)).public_key_pem == rsa_pair.public_pem
    with pytest.raises(FetchError):
        await resolver.resolve(KEY_ID, refresh=True)


async def test_concurrent_lookups_share_one_fetch(rsa_pair: KeyPair) -> None:
    started, gate = asyncio.Event(), asyncio.Event()
    fetched: list[str] = []

    async def slow_fetch(url: str) -> JSON:
        fetched.append(url)
        started.set()
        await gate.wait()
        return actor_document(rsa_pair)

    resolver = CachingKeyResolver(InMemoryKeyCache(), slow_fetch)
    lookups = [asyncio.create_task(resolver.resolve(KEY_ID)) for _ in range(5)]
    await started.wait()  # every lookup is now waiting on the one fetch
    gate.set()
    results = await asyncio.gather(*lookups)
    assert fetched == [ACTOR]
    assert {info.owner for info in results} == {ACTOR}


async def test_lru_cache_is_bounded(rsa_pair: KeyPair) -> None:
    cache = InMemoryKeyCache(max_entries=2)
    for n in range(3):
        info = PublicKeyInfo(f"k{n}", ACTOR, rsa_pair.public_pem)
        await cache.put(f"k{n}", CachedKey(info, 0.0))
    assert await cache.get("k0") is None
    assert await cache.get("k2") is not None


# --- what a key document may say ------------------------------------------------------------


def test_key_embedded_in_an_actor(rsa_pair: KeyPair) -> None:
    info = extract_public_key(actor_document(rsa_pair), KEY_ID)
    assert (info.key_id, info.owner) == (KEY_ID, ACTOR)


def test_standalone_key_document_names_its_owner(rsa_pair: KeyPair) -> None:
    key_id = "https://remote.example/keys/1"
    document = {"id": key_id, "owner": ACTOR, "publicKeyPem": rsa_pair.public_pem}
    assert extract_public_key(document, key_id).owner == ACTOR


def test_standalone_key_owned_by_another_origin_is_refused(rsa_pair: KeyPair) -> None:
    key_id = "https://remote.example/keys/1"
    document = {
        "id": key_id,
        "owner": "https://victim.example/users/x",
        "publicKeyPem": rsa_pair.public_pem,
    }
    with pytest.raises(SignatureError, match="no owner on its own origin"):
        extract_public_key(document, key_id)


def test_embedded_key_claiming_another_owner_is_refused(rsa_pair: KeyPair) -> None:
    document = actor_document(rsa_pair)
    document["publicKey"]["owner"] = "https://remote.example/users/other"
    with pytest.raises(SignatureError, match="not owned by the actor"):
        extract_public_key(document, KEY_ID)


def test_key_id_not_in_the_document(rsa_pair: KeyPair) -> None:
    with pytest.raises(SignatureError, match="was not found"):
        extract_public_key(actor_document(rsa_pair), f"{ACTOR}#other-key")


def test_garbage_pem_is_refused() -> None:
    document = {"id": ACTOR, "publicKey": {"id": KEY_ID, "owner": ACTOR, "publicKeyPem": "nope"}}
    with pytest.raises(SignatureError, match="not a usable"):
        extract_public_key(document, KEY_ID)


def _multibase(pair: KeyPair) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    raw = load_public_key(pair.public_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    data = b"\xed\x01" + raw
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return "z" + out


async def test_ed25519_multikey_in_assertion_method(ed_pair: KeyPair) -> None:
    """FEP-521a: an Ed25519 Multikey verifies an RFC 9421 ed25519 signature."""
    key_id = f"{ACTOR}#ed25519-key"
    document = {
        "id": ACTOR,
        "type": "Person",
        "assertionMethod": [
            {
                "id": key_id,
                "type": "Multikey",
                "controller": ACTOR,
                "publicKeyMultibase": _multibase(ed_pair),
            },
        ],
    }
    info = extract_public_key(document, key_id)
    assert load_public_key(info.public_key_pem) is not None
    headers = sign_rfc9421("POST", "https://copub.example/inbox", {}, BODY, ed_pair.signer(key_id))
    resolver = CachingKeyResolver(InMemoryKeyCache(), FakeFetch({ACTOR: document}))
    verified = await verify_request("POST", "/inbox", headers, BODY, resolver)
    assert (verified.owner, verified.algorithm) == (ACTOR, "ed25519")


# --- a key host that never answers ----------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (kernel backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


async def test_unreachable_key_host_fails_within_the_timeout(
    silent_port: int, make_client: Any, rsa_pair: KeyPair
) -> None:
    client = await make_client(timeout_seconds=0.5)
    actor = f"http://127.0.0.1:{silent_port}/users/ana"
    resolver = CachingKeyResolver(InMemoryKeyCache(), client.fetch_object)
    headers = sign_request(
        "POST", "https://copub.example/inbox", {}, BODY, rsa_pair.signer(f"{actor}#main-key")
    )
    started = time.monotonic()
    with pytest.raises(SignatureError) as caught:
        await verify_request("POST", "/inbox", headers, BODY, resolver)
    assert time.monotonic() - started < 5
    assert caught.value.reason.startswith(f"could not obtain key {actor}#main-key")
    assert "timed out after 0.5 s" in caught.value.reason


async def test_key_fetched_from_a_live_peer(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    """End to end: the resolver's signed fetch against a loopback actor document."""
    documents: dict[str, JSON] = {}

    async def actor(request: web.Request) -> web.Response:
        return as2(documents["actor"])

    server = await peer_server({"GET /users/ana": actor})
    actor_id = str(server.make_url("/users/ana"))
    documents["actor"] = actor_document(rsa_pair, actor_id, f"{actor_id}#main-key")
    client = await make_client()
    resolver = CachingKeyResolver(InMemoryKeyCache(), client.fetch_object)
    headers = sign_request(
        "POST", "https://copub.example/inbox", {}, BODY, rsa_pair.signer(f"{actor_id}#main-key")
    )
    verified = await verify_request("POST", "/inbox", headers, BODY, resolver)
    assert verified.owner == actor_id
