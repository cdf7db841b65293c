"""Reads that a batch of inbox items repeats, remembered for one transaction.

The inbox processor applies a batch of items in one transaction (``actors.inbound.batch``)
and turns this on for its session (:func:`enable`); the reads below then ask the database
once per batch instead of once per item: a community by slug or id, its blocks, filters and
moderators, and where its followers' deliveries go; and by actor, for all the batch's
actors in one read, whether each follows a community and the links to each. A write in
that session to a table a read depends on (``DEPENDS``: an insert, update or delete,
flushed or executed) forgets what was read of it, a rollback everything, so a read after
it sees the write, as before. Writes by
other transactions are not seen until the batch's next transaction, as a read in an open
transaction would not see them either. Other sessions remember nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
V = TypeVar("V")

_KEY = "copub.memo"  # Session.info: what is remembered, by key: (kind, ...)
_HINT = "copub.memo.actors"  # Session.info: the actors of the batch, read together
# the tables each kind of remembered read depends on
DEPENDS: dict[str, frozenset[str]] = {
    "community": frozenset({"communities"}),
    "community id": frozenset({"communities"}),
    "blocks": frozenset({"blocks"}),
    "moderators": frozenset({"moderators"}),
    "filters": frozenset({"moderation_filters"}),
    "follower inboxes": frozenset({"followers", "blocks"}),
    "follower": frozenset({"followers"}),
    "links from": frozenset({"links"}),
}
TABLES = frozenset().union(*DEPENDS.values())


def enable(session: AsyncSession, actors: Iterable[str] = ()) -> None:
    """Remember reads in ``session``; ``actors``: those of the batch, whose rows a read
    by actor (a follower, a link) asks for together."""
    session.info[_KEY] = {}
    session.info[_HINT] = frozenset(actors)


def enabled(session: AsyncSession) -> bool:
    return _KEY in session.info


async def remembered(
    session: AsyncSession, key: tuple[Hashable, ...], read: Callable[[], Awaitable[T]]
) -> T:
    """``read()``'s value, asked once while nothing it depends on is written; ``key[0]``
    names the kind of read (``DEPENDS``)."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None:
        return await read()
    if key in memo:
        return cast(T, memo[key])
    value = await read()
    memo[key] = value
    return value


async def remembered_by_actor(
    session: AsyncSession,
    kind: str,
    scope: Hashable,
    actor_id: str,
    read: Callable[[frozenset[str]], Awaitable[dict[str, V]]],
    missing: V,
) -> V:
    """What ``read(actors)`` finds for ``actor_id``, read with the batch's other actors
    (``missing`` for those it finds nothing for) when not remembered."""
    memo: dict[Hashable, Any] = session.info[_KEY]
    key = (kind, scope, actor_id)
    if key not in memo:
        actors = frozenset({actor_id, *session.info.get(_HINT, ())})
        found = await read(actors)
        for actor in actors:
            memo[(kind, scope, actor)] = found.get(actor, missing)
    return cast(V, memo[key])


def _forget(session: Session, tables: Iterable[str] | None) -> None:
    """Forget what depends on ``tables`` (None: everything)."""
    memo: dict[Any, Any] | None = session.info.get(_KEY)
    if not memo:
        return
    if tables is None:
        memo.clear()
        return
    written = frozenset(tables)
    for key in [k for k in memo if DEPENDS[k[0]] & written]:
        del memo[key]


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(_KEY):
        return
    rows = (*session.new, *session.dirty, *session.deleted)
    tables = {getattr(row, "__tablename__", None) for row in rows} & TABLES
    if tables:
        _forget(session, cast(set[str], tables))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select or not state.session.info.get(_KEY):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name is None:
        _forget(state.session, None)
    elif name in TABLES:
        _forget(state.session, (name,))


@event.listens_for(Session, "after_soft_rollback")
def _on_rollback(session: Session, _transaction: Any) -> None:
    _forget(session, None)
