"""Engines, sessions and migrations for SQLite and PostgreSQL.

The rest of copub holds a transaction as this module's ``AsyncSession`` and a session factory
as ``async_sessionmaker[AsyncSession]``, both taken from here: outside ``actors.store`` nothing
imports SQLAlchemy (an import-linter contract keeps it so)."""

from __future__ import annotations

import asyncio
import importlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine as AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker as async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_only

from actors.store import onehop
from actors.store.versions import WatchedSession  # bumps pages' content versions

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
PLUGIN_MODELS = "copub.models"

T = TypeVar("T")


# Every model module of actors.store (tests/actors/test_cli_start.py checks the list)
MODEL_MODULES = (
    "models",
    "models_accounts",
    "models_digests",
    "models_links",
    "models_moderation",
    "models_peers",
    "models_practice",
    "models_values",
    "models_whoknows",
)


def load_models() -> None:
    """Import every model module, ours and those plugins declare
    (``[project.entry-points."copub.models"]``, by name), so ``Base.metadata`` knows every
    table our migration chain creates: for the migrations and the tests that compare the
    two. Everything else imports the models it uses (see ``actors.store``)."""
    for name in MODEL_MODULES:
        importlib.import_module(f"actors.store.{name}")
    for ep in entry_points(group=PLUGIN_MODELS):
        ep.load()


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT of ``dialect`` (a dialect's name) that takes ON CONFLICT clauses. The
    PostgreSQL dialect is imported when first asked for: its package loads every PostgreSQL
    driver's module, about 20 ms that a command on SQLite need not spend."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a file-based SQLite database; None for PostgreSQL or SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def redacted_url(url: str) -> str:
    """The database URL to show: its password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite database (``./data`` by default)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def after_commit(session: AsyncSession | Session, callback: Callable[[], object]) -> None:
    """Call ``callback`` once, after ``session``'s transaction commits (never on rollback):
    how a writer wakes a worker for the rows it wrote."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    event.listen(sync, "after_commit", lambda _s: callback(), once=True)


async def add_if_new(session: AsyncSession, row: object) -> bool:
    """Add ``row`` in a savepoint: False, and nothing added, when a unique constraint says it
    is stored already (the same activity delivered twice, a block or filter given again)."""
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return False
    return True


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


PADDED_UP_TO = 1 << 14  # a longer list is sent as it is: padded, a list of 20,000 would
# pass asyncpg's limit of 32,767 arguments a statement, which it is within as it is


def padded(values: Sequence[T]) -> Sequence[T]:
    """``values`` made as long as the next power of two by repeating the last: the same
    ``IN`` list, written in one of a few lengths. Lists over ``PADDED_UP_TO`` are left."""
    if not values or len(values) > PADDED_UP_TO:
        return values
    missing = (1 << (len(values) - 1).bit_length()) - len(values)
    return [*values, *[values[-1]] * missing] if missing else values


def _padding_in_lists(engine: AsyncEngine) -> AsyncEngine:
    """The engine's ``IN (...)`` lists are sent :func:`padded`.

    SQLAlchemy writes one placeholder per value, so each length of a list is another
    statement, which each connection prepares and keeps (Python's sqlite3 caches 128 per
    connection, asyncpg 100): the lists of hosts, actors and ids the server asks about run
    into the hundreds. Under bench/bench_hostile.py's hostile mix SQLite's memory grew
    3 -> 15 MiB in ten minutes, half the process's growth, with new lengths of one query
    (the hosts of a relay's followers) still arriving at the end. Padded, a query has at
    most a dozen texts."""
    dialect = engine.sync_engine.dialect
    compiler: Any = dialect.statement_compiler

    class PaddingCompiler(compiler):  # type: ignore[misc]
        def _literal_execute_expanding_parameter(
            self, name: str, parameter: Any, values: Collection[Any], *args: Any, **kwargs: Any
        ) -> Any:
            listed = values if isinstance(values, Sequence) else list(values)  # a set, say
            return super()._literal_execute_expanding_parameter(
                name, parameter, padded(listed), *args, **kwargs
            )

    dialect.statement_compiler = PaddingCompiler
    return engine


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    ensure_sqlite_dir(url)
    if is_sqlite(url):
        engine = create_async_engine(url, module=onehop.dbapi(), **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return _padding_in_lists(engine)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return _padding_in_lists(create_async_engine(url, **kwargs))


_BACKGROUND: ContextVar[bool] = ContextVar("copub_background_writes", default=False)


async def in_background(work: Awaitable[T]) -> T:
    """Await ``work`` as background work: on SQLite its write transactions (and those of
    the tasks it starts) take the write lock only when no request is waiting for it. For
    the loops that run beside the server (delivery worker, inbox processor, retention):
    what a request writes before it answers (an inbox's 202, a key it fetched) does not
    queue behind their batches."""
    _BACKGROUND.set(True)  # this task's own context: the caller's stays as it was
    return await work


class _WriteLock:
    """The process's SQLite write lock: one holder; among those waiting, requests' write
    transactions go first, background work's next (``in_background``), each in order of
    arrival. A release hands the lock to the next waiter directly.

    Under bench/bench_hostile.py a community relaying posts to its followers kept four or
    five background transactions queued (leasing deliveries, recording their outcomes, the
    relay itself), 10-25 ms each on a busy server; a genuine Follow waited behind all of
    them, twice (its key, then the inbox row)."""

    def __init__(self) -> None:
        self._held = False
        self._requests: deque[asyncio.Future[None]] = deque()
        self._background: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    def requests_waiting(self) -> bool:
        return any(not turn.done() for turn in self._requests)

    async def acquire(self) -> None:
        if not self._held:  # then nobody waits: a release hands the lock to any waiter
            self._held = True
            return
        waiters = self._background if _BACKGROUND.get() else self._requests
        turn = asyncio.get_running_loop().create_future()
        waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            elif turn in waiters:  # (a release skips and drops cancelled turns)
                waiters.remove(turn)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("the write lock is not held")
        for waiters in (self._requests, self._background):
            while waiters:
                turn = waiters.popleft()
                if not turn.done():
                    turn.set_result(None)  # still held: now by that waiter
                    return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()


class _WriteGate:
    """The process's write lock as one transaction takes it: at its first write."""

    def __init__(self, lock: _WriteLock) -> None:
        self._lock = lock
        self.held = False

    def take(self) -> None:
        """Wait for the lock; called from SQLAlchemy's synchronous layer, in its greenlet."""
        if not self.held:
            await_only(self._lock.acquire())
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._lock.release()


_GATE = "copub.write_gate"  # Session.info: the _WriteGate of a deferred write transaction


class _GatedSession(WatchedSession):
    """A session whose deferred write transaction (``info[_GATE]``) takes the write lock
    before its first write statement: a flush, or an execute that is not a SELECT."""


@event.listens_for(_GatedSession, "before_flush")
def _gate_flush(session: Session, _context: Any, _instances: Any) -> None:
    gate = session.info.get(_GATE)
    if gate is not None:
        gate.take()


@event.listens_for(_GatedSession, "do_orm_execute")
def _gate_execute(state: ORMExecuteState) -> None:
    gate = state.session.info.get(_GATE)
    if gate is not None and not state.is_select:
        gate.take()


class _SerializedWrites(async_sessionmaker[AsyncSession]):
    """SQLite allows one writer: queue this process's write transactions on an asyncio lock
    instead of letting them collide in SQLite's busy handler, which sleeps in steps of up
    to 100 ms. Reads (``sessions()``) run concurrently as before (WAL).

    ``begin()`` holds the lock for the whole transaction (read-then-write sequences that
    rely on it, such as claiming jobs, stay atomic). ``begin_deferred()`` takes it at the
    transaction's first write, as SQLite itself takes its write lock (pysqlite begins a
    transaction only before a write): a long read phase then holds nothing other writers
    need. What it read before that is not locked, as on PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False, sync_session_class=_GatedSession)
        self._write_lock = _WriteLock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        async with self._write_lock, super().begin() as session:
            yield session

    @asynccontextmanager
    async def begin_deferred(self) -> AsyncIterator[AsyncSession]:
        gate = _WriteGate(self._write_lock)
        try:
            async with super().begin() as session:
                session.info[_GATE] = gate
                yield session
        finally:
            gate.release()


def begin_deferred(sessions: async_sessionmaker[AsyncSession]) -> AsyncContextManager[AsyncSession]:
    """A write transaction that takes SQLite's process-wide write lock only at its first
    write (see ``_SerializedWrites``); on PostgreSQL simply ``sessions.begin()``. For work
    that reads at length before it writes (the inbox processor's handlers), so that it
    does not hold up the writes of others (the inbox's 202s) while it reads."""
    if isinstance(sessions, _SerializedWrites):
        return sessions.begin_deferred()
    return sessions.begin()


def requests_waiting(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether a request's write transaction waits for SQLite's write lock (never on
    PostgreSQL): background work holding it commits at its next step (the inbox
    processor's batches, ``actors.inbound.batch``)."""
    return isinstance(sessions, _SerializedWrites) and sessions._write_lock.requests_waiting()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return _SerializedWrites(engine)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=WatchedSession)


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # Alembic only where migrations run (actors.store.schema)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, url: str) -> None:
    from alembic import command

    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending migration (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, engine.url.render_as_string(hide_password=False))
