"""Fetched keys are written behind: the request whose signature needed a key does not wait
for SQLite's write lock to store it (actors/remote.py, SqlKeyCache)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from actors.remote import SqlKeyCache
from actors.store.db import AsyncSession, async_sessionmaker, create_engine, migrate, sessionmaker
from federation.httpsig import CachedKey, PublicKeyInfo

Sessions = async_sessionmaker[AsyncSession]
KEY_ID = "https://remote.example/users/ana#main-key"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.sqlite3'}")
    try:
        await migrate(engine)
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


def fresh_public_pem() -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key(pem: str, key_id: str = KEY_ID) -> CachedKey:
    info = PublicKeyInfo(key_id, key_id.split("#")[0], pem)
    return CachedKey(info, datetime.now(UTC).timestamp())


async def stored(sessions: Sessions, key_id: str = KEY_ID) -> str | None:
    """The key's PEM as the database has it (a cache of its own reads it)."""
    entry = await SqlKeyCache(sessions).get(key_id)
    return None if entry is None else entry.info.public_key_pem


async def test_a_fetched_key_is_kept_at_once_and_written_behind(sessions: Sessions) -> None:
    # Given another transaction holding the write lock
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with sessions.begin():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    cache = SqlKeyCache(sessions, max_entries=1)
    pem = fresh_public_pem()
    # When a key is put meanwhile (and pushed out of memory by another)
    async with asyncio.timeout(5):  # it would wait for the lock if it wrote at once
        await cache.put(KEY_ID, key(pem))
        await cache.put(KEY_ID + "2", key(fresh_public_pem(), KEY_ID + "2"))
    # Then the cache has it before the database does
    found = await cache.get(KEY_ID)
    assert found is not None
    assert found.info.public_key_pem == pem
    assert await stored(sessions) is None
    # And once the lock is free, it is written
    release.set()
    await holder
    await cache.flush()
    assert await stored(sessions) == pem


async def test_a_key_put_again_while_being_written_is_written_again(sessions: Sessions) -> None:
    cache = SqlKeyCache(sessions)
    first, second = fresh_public_pem(), fresh_public_pem()
    await cache.put(KEY_ID, key(first))
    await asyncio.sleep(0)  # the write of the first is under way
    await cache.put(KEY_ID, key(second))
    await cache.flush()
    assert await stored(sessions) == second
