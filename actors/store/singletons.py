"""Work that one process at a time may do: PostgreSQL session advisory locks, by name.

The Discourse poller, retention's purge and each refresh of a linked Group's ``following``
(the network's second hop) must not run in two processes of a fleet at once. Each takes a
named lock: ``pg_try_advisory_lock`` on a connection of its own, held for as long as it
holds the lock (:class:`AdvisoryLocks`). A process that dies loses its connection and
PostgreSQL frees its locks at once; :func:`run_singleton` in the others tries again every
few seconds, so one of them takes over within seconds. A holder that loses its connection
(the database restarted) stops its work and contends again.

Locks are per database. Their keys are ``(SINGLETONS, crc32 of the name)``: a namespace of
their own, apart from the lease holders' (``actors.store.holders``).

On SQLite there is no lock to take and every ``try_lock`` succeeds: copub's rule there is
one process per database (``copub serve``, or a ``copub worker`` holding the delivery
worker's file lock, ``actors.delivery.worker_lock``), so the singletons already have one
holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from actors.store.db import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

SINGLETONS = 0x6373  # the first key of the singletons' advisory locks: "cs"
CHECK_TIMEOUT = 10.0  # seconds a holder's connection has to answer "still there?"
START_UP = "start-up"  # migrating and seeding, one process at a time (``one_at_a_time``)

_TRY = text("SELECT pg_try_advisory_lock(:ns, :key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:ns, :key)")
_HELD = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
    " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
    " AND l.classid::bigint = :ns AND l.objid::bigint = :objid AND l.objsubid = 2"
)


def lock_key(name: str) -> int:
    """The lock's second key: the CRC-32 of ``name``, as a signed int4."""
    key = zlib.crc32(name.encode())
    return key - 2**32 if key >= 2**31 else key


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("singletons need sessions bound to an AsyncEngine")
    return engine


class AdvisoryLocks:
    """Named locks this process holds, on one connection of its own (opened with the
    first lock, closed when the last is released). Several tasks may use one instance."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine_of(sessions)
        self.postgresql = self.engine.dialect.name == "postgresql"
        self.held: set[str] = set()
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    async def try_lock(self, name: str) -> bool:
        """Take ``name`` if nobody holds it (another process, or another task of this
        one); True if taken."""
        async with self._lock:
            if name in self.held:
                return False
            if self.postgresql:
                connection = await self._connect()
                try:
                    taken = await connection.scalar(_TRY, _params(name))
                except BaseException:
                    await self._drop()
                    raise
                if not taken:
                    await self._close_if_unused()
                    return False
            self.held.add(name)
            return True

    async def unlock(self, name: str) -> None:
        """Let ``name`` go (nothing if it was not held). Never raises: a connection that
        cannot unlock is closed, which frees its locks."""
        async with self._lock:
            if name not in self.held:
                return
            self.held.discard(name)
            if self._connection is not None:
                try:
                    await self._connection.scalar(_UNLOCK, _params(name))
                except Exception:
                    log.warning("could not unlock %s; closing its connection", name, exc_info=True)
                    await self._drop()
                    return
            await self._close_if_unused()

    async def alive(self) -> bool:
        """Whether the locks are still this process's: their connection answers. When it
        does not, it is dropped and nothing is held any more."""
        async with self._lock:
            if not self.postgresql or self._connection is None:
                return bool(self.held)
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self._connection.scalar(text("SELECT 1"))
            except Exception:
                held = ", ".join(sorted(self.held))
                log.warning("lost the connection holding %s", held, exc_info=True)
                await self._drop()
                return False
            return True

    async def close(self) -> None:
        for name in list(self.held):
            await self.unlock(name)

    @contextlib.asynccontextmanager
    async def holding(self, name: str) -> AsyncIterator[bool]:
        """``try_lock(name)`` for the block: yields whether it was taken; released after."""
        taken = await self.try_lock(name)
        try:
            yield taken
        finally:
            if taken:
                await self.unlock(name)

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self.engine.connect()
            # no transaction stays open on it: the locks are the session's, not a
            # transaction's, and an idle transaction would hold back VACUUM
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    async def _close_if_unused(self) -> None:
        if self._connection is not None and not self.held:
            connection, self._connection = self._connection, None
            await connection.close()

    async def _drop(self) -> None:
        """Forget the connection and everything held on it (closing it frees the locks)."""
        connection, self._connection = self._connection, None
        self.held.clear()
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # never back into the pool
            with contextlib.suppress(Exception):
                await connection.close()


def _params(name: str) -> dict[str, int]:
    return {"ns": SINGLETONS, "key": lock_key(name)}


@contextlib.asynccontextmanager
async def one_at_a_time(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Wait for the lock ``name`` and hold it for the block: processes of a fleet starting
    together do their start-up work (migrating, seeding the first admin) one after the
    other, each seeing what the one before did. On a connection of its own, let go at the
    end (or with the connection, should the process die). Nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("SELECT pg_advisory_lock(:ns, :key)"), _params(name))
        try:
            yield
        finally:
            await connection.execute(_UNLOCK, _params(name))


async def run_singleton(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    work: Callable[[], Awaitable[None]],
    *,
    contend_seconds: float = 5.0,
    check_seconds: float = 5.0,
) -> None:
    """Run ``work()`` in the one process holding ``name``, until cancelled (or until
    ``work`` returns). The others try every ``contend_seconds``; the holder makes sure
    every ``check_seconds`` that it still holds the lock and stops ``work`` when it does
    not. On SQLite ``work()`` just runs."""
    locks = AdvisoryLocks(sessions)
    if not locks.postgresql:
        await work()
        return
    waiting_logged = False
    while True:
        try:
            taken = await locks.try_lock(name)
        except Exception:
            log.warning("could not ask for the %s lock; trying again", name, exc_info=True)
            taken = False
        if not taken:
            if not waiting_logged:
                log.info("%s runs in another process; taking over if it stops", name)
                waiting_logged = True
            await asyncio.sleep(contend_seconds)
            continue
        waiting_logged = False
        log.info("%s: this process holds it", name, extra={"singleton": name})
        if await _hold(locks, name, work, check_seconds):
            return


async def _hold(
    locks: AdvisoryLocks,
    name: str,
    work: Callable[[], Awaitable[None]],
    check_seconds: float,
) -> bool:
    """Run ``work`` while ``name`` is held; True when it returned, False when the lock
    was lost (``work`` is then cancelled). Its errors propagate; the lock is let go."""

    async def run() -> None:
        await work()

    task = asyncio.create_task(run(), name=f"singleton {name}")
    try:
        while True:
            done, _pending = await asyncio.wait({task}, timeout=check_seconds)
            if done:
                task.result()  # its error, if any
                return True
            if not await locks.alive():
                log.warning("%s: lost its lock; stopping here", name)
                return False
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await locks.unlock(name)


async def holders(session: AsyncSession, name: str) -> int:
    """(PostgreSQL) How many sessions hold ``name`` now: 0 or 1."""
    params = {"ns": SINGLETONS, "objid": lock_key(name) & 0xFFFFFFFF}
    return int(await session.scalar(_HELD, params) or 0)
