"""SQLite through aiosqlite, with the trips to its thread that buy nothing left out.

aiosqlite runs each call of the sqlite3 API in the connection's thread and hands the result
back through the event loop: SQLAlchemy's adapter made four such trips for one statement
(open a cursor, execute, fetch the rows, close the cursor), and a trip waits for the thread
to be scheduled and take the GIL, then for the loop to come round to the answer, each up to
a few milliseconds on a busy two-core machine. Under bench/bench_hostile.py (a community
relaying posts to a few hundred inboxes while its inbox is attacked) a write transaction of
a dozen statements held SQLite's write lock 20-40 ms at the 99th percentile while SQLite
worked under 1 ms of it, and a genuine Follow's 202 waited behind it.

Here a statement is one trip at most: the sqlite3 cursor is opened, run, read to the end
and closed in one call, and ``fetch*`` and ``close`` answer from memory. A statement runs
on the loop's own thread, no trip at all, when it cannot wait for a lock another process
holds and it was seen to be quick (:data:`INLINE_SECONDS`, learned per SQL text):

- reads (WAL readers never wait for writers) and savepoints;
- writes in a transaction that has written already: this connection holds SQLite's write
  lock until it commits.

A transaction's first write goes to the thread (another process, ``copub publish`` say,
may hold the lock: the busy handler waits there, not on the loop), and so does a commit
(it may checkpoint the WAL). Everything else is aiosqlite's own. Results are read whole,
as SQLAlchemy's adapter does for every cursor that is not server-side (copub streams none).
"""

from __future__ import annotations

import sqlite3
import time
import types
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

INLINE_SECONDS = 0.0005  # a statement last seen to take less runs on the loop's thread
MAX_KNOWN = 4096  # SQL texts whose cost is kept; all are forgotten when there are more
_NEVER_WAIT = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK")

Row = Any  # a row as sqlite3 makes it (a tuple)
Result = tuple[Any, list[Row], int, int | None]  # description, rows, rowcount, lastrowid
Key = tuple[str, int]  # a statement's SQL and, for executemany, the bit length of its count

_costs: dict[Key, float] = {}  # seconds each statement took when it last ran


def _never_waits(sql: str) -> bool:
    """A statement that takes no lock another process may hold: a read, or a savepoint's."""
    return sql.lstrip()[:9].upper().startswith(_NEVER_WAIT)


class Cursor:
    """The part of aiosqlite's cursor SQLAlchemy's adapter uses."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Row] = []

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        return await self._run((sql, 0), lambda cursor: cursor.execute(sql, parameters or ()))

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> Cursor:
        key = (sql, len(parameters).bit_length())
        return await self._run(key, lambda cursor: cursor.executemany(sql, parameters))

    async def _run(self, key: Key, statement: Callable[[sqlite3.Cursor], object]) -> Cursor:
        connection = self._connection

        def run() -> Result:
            began = time.perf_counter()
            cursor = connection.raw.cursor()
            try:
                statement(cursor)
                rows = cursor.fetchall() if cursor.description else []
                return cursor.description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()
                if len(_costs) >= MAX_KNOWN:
                    _costs.clear()
                _costs[key] = time.perf_counter() - began

        if _costs.get(key, INLINE_SECONDS) < INLINE_SECONDS and (
            _never_waits(key[0]) or connection.holds_write_lock()
        ):
            result = run()
        else:
            result = await connection.in_thread(run)
            connection.wrote = connection.wrote or not _never_waits(key[0])
        self.description, self._rows, self.rowcount, self.lastrowid = result
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class Connection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors are :class:`Cursor`."""

    wrote = False  # a write ran (in the thread) since the last commit or rollback

    def holds_write_lock(self) -> bool:
        """This connection's transaction has written (pysqlite begins one only before a
        write, and SQLite takes its write lock then): no other process can take it now."""
        return self.wrote and self.raw.in_transaction

    async def commit(self) -> None:
        if self.raw.in_transaction:
            await super().commit()  # in the thread: a commit may checkpoint the WAL
        self.wrote = False

    async def rollback(self) -> None:
        self.raw.rollback()  # takes no lock; drops this connection's
        self.wrote = False

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection (used by one task at a time, in either thread)."""
        return self._conn

    async def in_thread(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in this connection's thread."""
        return await self._execute(work)  # type: ignore[no-untyped-call]


def connect(database: str | bytes, *, iter_chunk_size: int = 64, **kwargs: Any) -> Connection:
    """As ``aiosqlite.connect``, with :class:`Connection`."""
    location = database.decode() if isinstance(database, bytes) else str(database)
    kwargs["check_same_thread"] = False  # some statements run on the loop's thread
    connection = Connection(lambda: sqlite3.connect(location, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy's dialect does: exit never waits on it
    return connection


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API of SQLAlchemy's aiosqlite dialect over aiosqlite with :func:`connect`:
    for ``create_async_engine(..., module=dbapi())``."""
    patched = types.ModuleType("aiosqlite_onehop")
    patched.__dict__.update(vars(aiosqlite))
    patched.connect = connect  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(patched, sqlite3)
