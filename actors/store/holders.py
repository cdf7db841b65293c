"""Who holds a lease, and taking back what only a dead process could hold.

Inbox items and deliveries are leased (``locked_until``) to the process working on them and
record which one (``locked_by``: the process's :class:`Holder` id). A process killed
mid-work leaves its leases behind; without this, the work would wait for them to run out
(two minutes for an inbox item). At start, a process takes them back at once
(``inbox_queue.reclaim``, ``SqlJobQueue.reclaim``), and on PostgreSQL the running inbox
processors and delivery workers look for them every few seconds:

- SQLite: one process works on a database (``copub serve`` runs the inbox processor, the
  delivery worker holds the file lock of ``actors.delivery.worker_lock``), so every lease
  found when it starts is a dead process's.
- PostgreSQL: each process holds a session advisory lock on its holder id for as long as it
  runs, on a connection of its own; PostgreSQL drops the lock with the connection when the
  process dies. A lease whose holder's lock nobody holds belongs to a dead process. (A
  process that lost its connection looks dead too: its work may then be done twice, which
  inbox handlers and deliveries tolerate; it is never lost.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    cast,
    column,
    exists,
    func,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeEngine

log = logging.getLogger(__name__)

NAMESPACE = 0x636F  # the first key of copub's advisory locks: "co"


class Holder:
    """This process, as the holder of leases. ``register`` it once per process and
    ``close`` it on the way out."""

    def __init__(self, ident: int, connection: AsyncConnection | None = None) -> None:
        self.id = ident
        self.postgresql = connection is not None
        self._connection = connection

    @classmethod
    async def register(cls, engine: AsyncEngine) -> Holder:
        """A new holder; on PostgreSQL it holds its advisory lock until ``close``."""
        if engine.dialect.name != "postgresql":
            return cls(_new_id())
        connection = await engine.connect()
        try:
            while True:
                ident = _new_id()
                taken = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": NAMESPACE, "id": ident}
                )
                await connection.commit()  # the lock is the session's: it outlives this
                if taken:
                    return cls(ident, connection)
        except BaseException:
            await connection.close()
            raise

    async def close(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": NAMESPACE, "id": self.id}
            )
            await self._connection.commit()
        await self._connection.close()
        self._connection = None


@contextlib.asynccontextmanager
async def holding(
    engine: AsyncEngine,
    reclaim: Callable[[Holder], Awaitable[int]],
    *,
    every: float,
    wake: Callable[[], None],
) -> AsyncIterator[Holder | None]:
    """This process, holding its leases while the block runs as the :class:`Holder` given to
    it (None when it could not register: its leases then run out as before). First take back
    what dead processes left leased (``reclaim``); on PostgreSQL again every ``every``
    seconds, calling ``wake`` when it took any. The holder is closed at the end."""
    holder: Holder | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        try:
            holder = await Holder.register(engine)
            await reclaim(holder)
        except Exception:
            log.exception("could not take back the leases of dead processes; they expire")
        if holder is not None and holder.postgresql:
            watcher = asyncio.create_task(_reclaiming(holder, reclaim, every, wake))
        yield holder
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if holder is not None:
            await holder.close()


async def _reclaiming(
    holder: Holder,
    reclaim: Callable[[Holder], Awaitable[int]],
    every: float,
    wake: Callable[[], None],
) -> None:
    """(PostgreSQL) Every ``every`` seconds, take back what processes that died since left
    leased, and ``wake`` the loop to do it: a process of a fleet killed and not started again
    leaves its work to the others within seconds, not when its leases run out."""
    while True:
        await asyncio.sleep(every)
        try:
            taken = await reclaim(holder)
        except Exception:
            log.warning("could not look for leases of dead processes", exc_info=True)
            continue
        if taken:
            wake()


def _new_id() -> int:
    return secrets.randbelow(2**31 - 1) + 1  # a positive int4: the advisory lock's second key


@functools.cache
def _pg_catalog() -> tuple[TableClause, TableClause, type[TypeEngine[int]]]:
    """(pg_locks, pg_database, OID): built when first needed, on PostgreSQL (importing its
    dialect loads every PostgreSQL driver's module, which a command on SQLite need not)."""
    from sqlalchemy.dialects.postgresql import OID

    locks = table(
        "pg_locks",
        column("locktype", String),
        column("granted", Boolean),
        column("database", OID),
        column("classid", OID),
        column("objid", OID),
        column("objsubid", Integer),
    )
    database = table("pg_database", column("oid", OID), column("datname", String))
    return locks, database, OID


def holder_is_dead(locked_by: QueryableAttribute[int | None]) -> ColumnElement[bool]:
    """(PostgreSQL) No live session holds the advisory lock of the holder ``locked_by``."""
    pg_locks, pg_database, oid = _pg_catalog()
    locks = pg_locks.c
    this_database = (
        select(pg_database.c.oid)
        .where(pg_database.c.datname == func.current_database())
        .scalar_subquery()
    )
    return ~exists().where(
        locks.locktype == "advisory",
        locks.granted,
        locks.database == this_database,
        locks.classid == NAMESPACE,
        locks.objsubid == 2,  # the two-int4 form of the lock key
        locks.objid == cast(locked_by, oid),
    )


def reclaimed(count: int, what: str) -> int:
    """Log what a reclaim took back; returns ``count``."""
    if count:
        log.info("took back %d %s leased by a process that is gone", count, what)
    return count
