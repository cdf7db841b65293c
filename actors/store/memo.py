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
_HINTS = "copub.memo.hints"  # Session.info: the batch's actors and objects, read together
_READ_TOGETHER = "copub.memo.together"  # Session.info: (kind, scope) read for all hints
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
    "object": frozenset({"objects"}),
    "relayed": frozenset({"objects"}),
    "hold": frozenset({"held_posts"}),
}
TABLES = frozenset().union(*DEPENDS.values())
_KEYED_KINDS = frozenset({"object", "relayed", "hold", "follower"})
# tables whose rows, flushed, name the keys they change (the others forget by table)
KEYED: dict[str, Callable[[Any], list[tuple[Hashable, ...]]]] = {
    "objects": lambda row: [
        ("object", None, row.ap_id),
        ("relayed", row.community_id, row.attributed_to),
    ],
    "held_posts": lambda row: [("hold", row.community_id, row.object_ap_id)],
    "followers": lambda row: [("follower", row.community_id, row.actor_id)],
}


def enable(session: AsyncSession, actors: Iterable[str] = (), objects: Iterable[str] = ()) -> None:
    """Remember reads in ``session``; ``actors`` and ``objects``: the ids the batch names,
    whose rows a read by actor (a follower, a link) or by object asks for together."""
    session.info[_KEY] = {}
    session.info[_HINTS] = {"actors": frozenset(actors), "objects": frozenset(objects)}
    session.info[_READ_TOGETHER] = set()


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


async def remembered_among(
    session: AsyncSession,
    kind: str,
    scope: Hashable,
    name: str,
    read: Callable[[frozenset[str]], Awaitable[dict[str, V]]],
    missing: V,
    hints: str = "actors",
) -> V:
    """What ``read(names)`` finds for ``name`` (``missing`` if nothing), remembered. The
    first read of a ``kind`` and ``scope`` asks for the batch's ``hints`` (its actors or
    its objects) with it; later ones, after a write made one forgotten, for it alone."""
    memo: dict[Hashable, Any] = session.info[_KEY]
    key = (kind, scope, name)
    if key not in memo:
        together: set[tuple[str, Hashable]] = session.info[_READ_TOGETHER]
        names = frozenset({name})
        if (kind, scope) not in together:
            together.add((kind, scope))
            names |= session.info[_HINTS][hints]
        found = await read(names)
        for each in names:
            memo[(kind, scope, each)] = found.get(each, missing)
    return cast(V, memo[key])


def _forget(session: Session, tables: Iterable[str] | None, *, keyed: bool = False) -> None:
    """Forget what depends on ``tables`` (None: everything); ``keyed``: but the kinds the
    flushed rows named (``KEYED``), forgotten key by key."""
    memo: dict[Any, Any] | None = session.info.get(_KEY)
    if not memo:
        return
    if tables is None:
        memo.clear()
        return
    written = frozenset(tables)
    kept = _KEYED_KINDS if keyed else frozenset()
    for key in [k for k in memo if DEPENDS[k[0]] & written and k[0] not in kept]:
        del memo[key]


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(_KEY):
        return
    memo: dict[Hashable, Any] = session.info[_KEY]
    tables: set[str] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", None)
        if table in KEYED:
            for key in KEYED[table](row):
                memo.pop(key, None)
        if table in TABLES:
            tables.add(table)
    if tables:
        _forget(session, tables, keyed=True)


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
