"""Unbounded state: per-host and per-key memory a hostile peer can grow without limit.

Every remote host, key or actor a request names can make the server remember something
(a circuit breaker, a cached key). An attacker has as many hosts and keys as it likes, so
each such structure holds at most a configured number of entries, forgetting the least
recently used first. ``bench/bench_hostile.py`` measures the process as a whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.delivery import build_worker
from actors.remote import SqlKeyCache
from actors.settings import ConfigError, FederationSettings
from federation.client import FederationClient
from federation.delivery.breaker import Admit, BreakerPolicy, CircuitBreakers
from federation.httpsig import CachedKey, PublicKeyInfo
from federation.httpsig.common import split_url
from federation.keys import load_public_key
from tests import factories

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_circuit_breakers_remember_at_most_max_hosts_failing_hosts() -> None:
    """Each failing host takes a circuit; past ``max_hosts`` the least recently failing
    host is forgotten, and the recent ones keep their state (an open circuit stays open)."""
    breakers = CircuitBreakers(BreakerPolicy(failures=1, cooldown_seconds=60, max_hosts=100))
    for i in range(150):
        breakers.record(f"dead{i}.example", True, T0 + timedelta(seconds=i), probe=False)

    assert len(breakers) == 100
    assert not breakers.is_open("dead0.example")  # forgotten: it may be tried again
    assert breakers.admit("dead0.example", T0) is Admit.GO
    assert breakers.is_open("dead149.example")
    assert breakers.admit("dead149.example", T0 + timedelta(seconds=150)) == T0 + timedelta(
        seconds=209
    )


def test_a_host_failing_again_is_kept_over_older_ones() -> None:
    """Eviction follows the last failure, not the first: a host that keeps failing stays."""
    breakers = CircuitBreakers(BreakerPolicy(failures=3, max_hosts=2))
    breakers.record("old.example", True, T0, probe=False)
    breakers.record("other.example", True, T0, probe=False)
    breakers.record("old.example", True, T0, probe=False)  # failing again: the most recent
    breakers.record("new.example", True, T0, probe=False)

    assert len(breakers) == 2
    breakers.record("old.example", True, T0, probe=False)  # its third failure in a row
    assert breakers.is_open("old.example")


def test_the_worker_takes_its_breaker_bound_from_the_settings(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """``[delivery] breaker_max_hosts`` bounds the worker's circuits; 0 is refused."""
    settings = factories.make_settings(
        "sqlite+aiosqlite:///x.sqlite3", delivery={"breaker_max_hosts": 3}
    )
    worker = build_worker(settings, sessions, FederationClient("test"))
    assert worker.breakers.policy.max_hosts == 3
    with pytest.raises(ConfigError, match=r"'delivery\.breaker_max_hosts'"):
        factories.make_settings("sqlite+aiosqlite:///x.sqlite3", delivery={"breaker_max_hosts": 0})


def fresh_public_pem() -> str:
    """A public key no one used before (Ed25519: making one costs microseconds)."""
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def test_parsed_public_keys_are_kept_for_at_most_a_thousand_keys() -> None:
    """Parsing a key costs a fraction of checking one signature with it; the parsed keys of
    senders seen once (each a few KiB outside Python's heap) are not all kept."""
    load_public_key.cache_clear()
    for _ in range(1_100):
        load_public_key(fresh_public_pem())
    assert load_public_key.cache_info().currsize <= 1_000


def test_split_urls_of_signed_requests_are_kept_for_at_most_a_thousand_urls() -> None:
    """Every key fetch signs a GET of a URL the peer chose; those URLs are not all kept."""
    split_url.cache_clear()
    for i in range(1_100):
        split_url(f"https://host{i}.example/users/u{i}")
    assert split_url.cache_info().currsize <= 1_000


async def test_the_key_cache_keeps_at_most_its_size_in_memory(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Past ``max_entries`` keys, the least recently used leave memory; the database still
    has them."""
    cache = SqlKeyCache(sessions, max_entries=10)
    now = datetime.now(UTC).timestamp()
    for i in range(15):
        key_id = f"https://host{i}.example/users/u#main-key"
        info = PublicKeyInfo(key_id, key_id.split("#")[0], fresh_public_pem())
        await cache.put(key_id, CachedKey(info, now))
    await cache.flush()  # written behind (SqlKeyCache)

    assert cache.in_memory == 10
    first = await cache.get("https://host0.example/users/u#main-key")
    assert first is not None
    assert first.info.owner == "https://host0.example/users/u"
    assert cache.in_memory == 10


def test_the_key_cache_size_is_a_setting() -> None:
    """``[federation] key_cache_entries``: a few thousand by default; 0 is refused."""
    assert 1_000 <= FederationSettings().key_cache_entries <= 10_000
    with pytest.raises(ConfigError, match=r"'federation\.key_cache_entries'"):
        factories.make_settings(
            "sqlite+aiosqlite:///x.sqlite3", federation={"key_cache_entries": 0}
        )
