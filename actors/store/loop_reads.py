"""A community read by its slug on the event loop itself, on SQLite.

Through aiosqlite a read is a session, a connection from the pool, and a round trip to
that connection's thread and back through the event loop for each of its steps (about
six for one SELECT); on a busy loop each trip waits its turn. Under
bench/bench_hostile.py's mix an actor GET that loaded its community that way (the
directory's entry expired, or the content version moved on: every Follow moves it) took
15-45 ms, the others 0.3 ms. On SQLite the same read through a synchronous connection
costs a few hundred microseconds, the ORM included, and in WAL mode a reader does not
wait for writers. Each read is its own transaction (pysqlite begins none for a SELECT):
it sees every commit made before it, by any process.

On PostgreSQL, or a SQLite database in memory (no file to open twice), and whenever
the file cannot be read in time (busy past the timeout, say), a session reads instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from actors.community import Community
from actors.store import queries
from actors.store.models import CommunityRow

log = logging.getLogger(__name__)


class CommunityReader:
    """Communities by slug for the hot read paths (actors/web/directory.py)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sqlite: Path | None) -> None:
        self._sessions = sessions
        self._engine = (
            None
            if sqlite is None
            else create_engine(
                f"sqlite:///{sqlite}",
                poolclass=StaticPool,  # one connection, used on the loop's thread only
                connect_args={"timeout": 0.5, "check_same_thread": False},
            )
        )

    async def community(self, slug: str) -> Community | None:
        if self._engine is not None:
            try:
                with Session(self._engine) as session:
                    row = session.scalar(select(CommunityRow).where(CommunityRow.slug == slug))
                    return queries.community_from_row(row) if row is not None else None
            except SQLAlchemyError as exc:
                log.info("community %r read through a session: %s", slug, exc)
        async with self._sessions() as session:
            return await queries.get_community(session, slug)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
