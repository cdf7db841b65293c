"""Reads that a batch of inbox items repeats, remembered for one transaction.

The inbox processor applies a batch of items in one transaction (``actors.inbound.batch``)
and turns this on for its session (:func:`enable`); the reads below then ask the database
once per batch instead of once per item: a community by slug or id, its blocks, filters and
moderators, and where its followers' deliveries go. Any write in that session to a table
they read (``TABLES``: an insert, update or delete, flushed or executed) and any rollback
forgets everything remembered, so a read after it sees the write, as before. Writes by
other transactions are not seen until the batch's next transaction, as a read in an open
transaction would not see them either. Other sessions remember nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")

_KEY = "copub.memo"  # Session.info: what is remembered, by key
TABLES = frozenset({"communities", "blocks", "moderation_filters", "moderators", "followers"})


def enable(session: AsyncSession) -> None:
    session.info[_KEY] = {}


def enabled(session: AsyncSession) -> bool:
    return _KEY in session.info


async def remembered(session: AsyncSession, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s value, asked once while nothing it depends on is written."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None:
        return await read()
    if key in memo:
        return cast(T, memo[key])
    value = await read()
    memo[key] = value
    return value


def _forget(session: Session) -> None:
    memo = session.info.get(_KEY)
    if memo:
        memo.clear()


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(_KEY):
        return
    for row in (*session.new, *session.dirty, *session.deleted):
        if getattr(row, "__tablename__", None) in TABLES:
            _forget(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select or not state.session.info.get(_KEY):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) in TABLES:
        _forget(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _on_rollback(session: Session, _transaction: Any) -> None:
    _forget(session)
