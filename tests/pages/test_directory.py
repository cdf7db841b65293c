"""The hot read paths' one-row reads (actors/store/loop_reads.py): on a SQLite file the
community directory, the key cache and the pages' content versions read on the event loop,
never through a session, and see every commit made before the read; a file they cannot
read: a session."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from actors.remote import SqlKeyCache
from actors.store import queries
from actors.store.db import sqlite_file
from actors.store.loop_reads import LoopReads
from actors.store.versions import VersionReader
from actors.web.directory import CommunityDirectory
from federation.httpsig import CachedKey, PublicKeyInfo
from tests import factories
from tests.flows.copub import sqlite_only
from tests.pages.builders import Sessions


class NoSessions:
    """A sessionmaker that must not be used."""

    def __call__(self) -> object:
        raise AssertionError("read through a session")


async def rename(sessions: Sessions, slug: str, name: str) -> None:
    async with sessions.begin() as session:
        community = await queries.get_community(session, slug)
        assert community is not None
        await queries.update_community(
            session, community.id, name=name, summary=community.summary,
            closed=community.closed, profile_fields=community.profile_fields,
        )  # fmt: skip


@sqlite_only  # on PostgreSQL a session reads
async def test_sqlite_reads_need_no_session(sessions: Sessions, database_url: str) -> None:
    path = sqlite_file(database_url)
    assert path is not None
    await factories.create_community(sessions, "nightshift", name="Night shift")
    reads = LoopReads(NoSessions(), path)  # type: ignore[arg-type]
    directory = CommunityDirectory(NoSessions(), reads=reads)  # type: ignore[arg-type]
    try:
        found = await directory.get("nightshift")
        assert found is not None
        assert found.name == "Night shift"
        assert found.created_at.tzinfo is not None  # the same types as through a session
        assert await directory.get("dayshift") is None
        await rename(sessions, "nightshift", "Nights")
        await directory.at_version("nightshift", 10**9)  # a newer version: read again
        renamed = await directory.get("nightshift")
        assert renamed is not None
        assert renamed.name == "Nights"
        assert renamed == await _through_a_session(sessions, "nightshift")
    finally:
        reads.close()


async def _through_a_session(sessions: Sessions, slug: str) -> object:
    async with sessions() as session:
        return await queries.get_community(session, slug)


async def test_an_unreadable_file_falls_back_to_a_session(
    sessions: Sessions, tmp_path: Path
) -> None:
    await factories.create_community(sessions, "nightshift", name="Night shift")
    garbage = tmp_path / "not-a-database"
    garbage.write_bytes(b"garbage" * 100)
    reads = LoopReads(sessions, garbage)
    try:
        found = await CommunityDirectory(sessions, reads=reads).get("nightshift")
    finally:
        reads.close()
    assert found is not None
    assert found.name == "Night shift"


@sqlite_only  # on PostgreSQL a session reads
async def test_the_key_cache_reads_a_stored_key_on_the_loop(
    sessions: Sessions, database_url: str
) -> None:
    path = sqlite_file(database_url)
    assert path is not None
    key_id = "https://remote.example/users/ana#main-key"
    saved = CachedKey(PublicKeyInfo(key_id, key_id[:-9], "PEM"), 1_700_000_000.0)
    writer = SqlKeyCache(sessions)
    await writer.put(key_id, saved)
    await writer.flush()
    reads = LoopReads(NoSessions(), path)  # type: ignore[arg-type]
    try:
        cache = SqlKeyCache(NoSessions(), reads=reads, shared=False)  # type: ignore[arg-type]
        found = await cache.get(key_id)
        assert await cache.get(key_id + "2") is None
    finally:
        reads.close()
    assert found == saved


@sqlite_only  # on PostgreSQL a session reads
async def test_a_content_version_read_stands_for_its_turn_of_the_loop(
    sessions: Sessions, database_url: str
) -> None:
    """Requests handled in one turn arrived before its first read, so that read stands
    for them; a commit made meanwhile by another connection is seen from the next turn."""
    path = sqlite_file(database_url)
    assert path is not None
    await factories.create_community(sessions, "nightshift")
    reads = LoopReads(NoSessions(), path)  # type: ignore[arg-type]
    reader = VersionReader(NoSessions(), reads)  # type: ignore[arg-type]
    try:
        first = await reader.of_slug("nightshift")
        assert first is not None
        with closing(sqlite3.connect(path)) as other, other:  # another process, say
            other.execute(
                "UPDATE communities SET content_version = content_version + 1 WHERE slug = ?",
                ("nightshift",),
            )
        assert await reader.of_slug("nightshift") == first  # the same turn
        await asyncio.sleep(0)  # the next turn
        after = await reader.of_slug("nightshift")
    finally:
        reads.close()
    assert after is not None
    assert after.version == first.version + 1
