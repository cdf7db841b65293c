"""One-row reads on the event loop itself, on SQLite: a community by its slug, a key.

Through aiosqlite a read is a session, a connection from the pool, and a round trip to
that connection's thread and back through the event loop for each of its steps (about
six for one SELECT); on a busy loop each trip waits its turn. Under
bench/bench_hostile.py's mix an actor GET that loaded its community that way (the
directory's entry expired, or the content version moved on: every Follow moves it) took
15-45 ms, the others 0.3 ms; a genuine Follow's key, read (and not found: it is new) the
same way, cost it as much again. On SQLite the same read through a synchronous connection
costs a few hundred microseconds, the ORM included, and in WAL mode a reader does not
wait for writers. Each read is its own transaction (pysqlite begins none for a SELECT):
it sees every commit made before it, by any process.

On PostgreSQL, or a SQLite database in memory (no file to open twice), and whenever
the file cannot be read in time (busy past the timeout, say), a session reads instead.
The content versions of pages (actors/store/versions.py) are read through the same
connection (:meth:`LoopReads.connection`): one per process.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import create_engine, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from actors.community import Community
from actors.store import queries
from actors.store.models import CommunityRow, RemoteKeyRow

log = logging.getLogger(__name__)

T = TypeVar("T")


class LoopReads:
    """Rows by their unique key for the hot paths: a community by its slug (the
    community directory, actors/web/directory.py), a remote key by its id (the key cache,
    actors/remote.py: every signed request whose key is not in memory)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sqlite: Path | None) -> None:
        self._sessions = sessions
        self._engine = None
        self._raw: Any = None  # the one connection's DB-API object, once asked for
        if sqlite is not None:
            self._engine = create_engine(
                f"sqlite:///{sqlite}",
                poolclass=StaticPool,  # one connection, used on the loop's thread only
                # A WAL reader is rarely kept waiting; when it is, the loop must not wait
                # with it: after 20 ms the read goes through a session instead.
                connect_args={"timeout": 0.02, "check_same_thread": False},
            )
            event.listen(self._engine, "connect", _small_cache)

    async def community(self, slug: str) -> Community | None:
        def read(session: Session) -> Community | None:
            row = session.scalar(select(CommunityRow).where(CommunityRow.slug == slug))
            return queries.community_from_row(row) if row is not None else None

        if (found := self._on_the_loop(read)) is not _FAILED:
            return cast("Community | None", found)
        async with self._sessions() as session:
            return await queries.get_community(session, slug)

    async def remote_key(self, key_id: str) -> RemoteKeyRow | None:
        def read(session: Session) -> RemoteKeyRow | None:
            return session.get(RemoteKeyRow, key_id)

        if (found := self._on_the_loop(read)) is not _FAILED:
            return cast("RemoteKeyRow | None", found)
        async with self._sessions() as session:
            return await session.get(RemoteKeyRow, key_id)

    def connection(self) -> sqlite3.Connection | None:
        """The synchronous connection itself, for reads that need no ORM (its statements
        run on the loop's thread only); None on PostgreSQL, in memory, or while the file
        cannot be opened."""
        if self._engine is None:
            return None
        if self._raw is None:
            try:
                self._raw = self._engine.raw_connection().driver_connection
            except (SQLAlchemyError, sqlite3.Error) as exc:
                log.info("read through a session instead: %s", exc)
                return None
        return cast("sqlite3.Connection", self._raw)

    def _on_the_loop(self, read: Callable[[Session], T]) -> T | object:
        """``read`` through the synchronous connection; ``_FAILED`` when there is none or
        the file could not be read in time."""
        if self._engine is None:
            return _FAILED
        try:
            with Session(self._engine) as session:
                return read(session)
        except SQLAlchemyError as exc:
            log.info("read through a session instead: %s", exc)
            return _FAILED

    def close(self) -> None:
        self._raw = None
        if self._engine is not None:
            self._engine.dispose()


_FAILED = object()


def _small_cache(connection: Any, _record: object) -> None:
    """A page cache of 256 KiB, not SQLite's 2 MiB: reads of single rows by their key
    touch a few pages each, which the OS keeps cached anyway."""
    connection.execute("PRAGMA cache_size=-256")
