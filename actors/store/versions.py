"""Each community's content version: a counter bumped in the transaction of every write that
changes what its pages, actor document, collections or feeds show. Pages use it as their
validator (ETag, 304) and as the key of their render cache (actors/web/page_cache.py); it
lives in the database, so a write made by any process (the CLI, another web process, a
worker) is seen by every other at its next request.

The one place writes are seen is the session: every session of actors.store.db is a
:class:`WatchedSession`. A flush notes the community of each new, changed or deleted row of
a table the pages show (``TRACKED``); a statement (insert, update, delete) on such a table
notes the communities its values or its ``community_id = ...`` condition name, else every
community. Just before the transaction commits, one UPDATE bumps the noted communities (in
id order, so two transactions never take the rows in opposite orders; on PostgreSQL the
rows are held only for the commit itself). A rollback forgets the notes. Writers therefore
do nothing themselves: a new table that pages show is added to ``TRACKED``.

Not tracked: remote people's profiles (their names on HTML pages, which are validated by
time too: ``[pages] html_seconds``); deliveries, the inbox queue, keys, accounts and
sessions show nowhere.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Result, bindparam, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.expression import ClauseElement

from actors.store.loop_reads import LoopReads
from actors.store.models import CommunityRow, ObjectRow

# table -> how a row names its community: its own column, or the item it belongs to
BY_COMMUNITY = frozenset(
    {
        "objects",
        "followers",
        "activities",  # the outbox
        "links",
        "link_items",
        "moderators",
        "account_communities",  # coordinators
        "modlog",
        "blocks",  # a server-wide block (no community) bumps every community
        "value_indicators",  # the value-creation matrix
        "who_knows_optouts",  # people left off the who-knows page
    }
)
BY_OBJECT = frozenset({"revisions", "event_details", "event_participants", "value_stories"})
# linked Groups' following and value collections (network pages of every community
# linking them): rare writes
EVERYWHERE = frozenset({"network_cache", "value_cache"})
TRACKED = BY_COMMUNITY | BY_OBJECT | EVERYWHERE | {"communities"}

_COMMUNITIES = "copub.changed_communities"  # Session.info: the ids noted, or ALL
_OBJECTS = "copub.changed_objects"  # Session.info: ids of items whose community is noted
ALL = -1


@dataclass(frozen=True)
class ContentVersion:
    community_id: int
    version: int
    changed_at: datetime | None
    members_only: bool = False  # its visibility now (actors/web/members_gate.py reads it)
    gated_items: bool = False  # it keeps items for its members (the same)


async def of_slug(session: AsyncSession, slug: str) -> ContentVersion | None:
    """The community ``slug`` names and its content version; None if there is none."""
    row = (
        await session.execute(
            select(
                CommunityRow.id,
                CommunityRow.content_version,
                CommunityRow.content_changed_at,
                CommunityRow.members_only,
                CommunityRow.gated_items,
            ).where(CommunityRow.slug == slug)
        )
    ).first()
    if row is None:
        return None
    return ContentVersion(row[0], row[1], row[2], bool(row[3]), bool(row[4]))


class VersionReader:
    """Reads content versions for every request of a process. On SQLite through the
    event loop's own connection (actors/store/loop_reads.py): a read of one row by its
    unique slug costs about 10 µs there, far less than handing it to aiosqlite's thread and
    back (0.1-0.5 ms, the most of a 304), and in WAL mode a reader does not wait for
    writers. Each read is its own transaction (autocommit): it sees every commit made
    before it, by any process. Between commits it is not read again: ``PRAGMA
    data_version`` (no table read) says whether any other connection, of this process or
    another, committed since; and that is asked once a turn of the event loop. What runs
    in a turn was queued before the turn's first read (the bytes of its request had
    arrived), so every commit its client can know of came before that read. On PostgreSQL
    through a session of ``sessions``."""

    SQL = (
        "SELECT id, content_version, content_changed_at, members_only, gated_items "
        "FROM communities WHERE slug = ?"
    )

    KEPT = 10_000  # versions remembered between commits (one per community asked for)

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reads: LoopReads) -> None:
        self._sessions = sessions
        self._reads = reads
        # SQLite's data_version moves with every commit another connection makes (this
        # one only reads): while it stands still, a version read before is still true.
        self._data_version = -1
        self._asked_this_turn = False
        self._known: dict[str, ContentVersion] = {}

    async def of_slug(self, slug: str) -> ContentVersion | None:
        connection = self._reads.connection()
        if connection is None:
            async with self._sessions() as session:
                return await of_slug(session, slug)
        try:
            if not self._asked_this_turn:
                self._turn_begins(connection.execute("PRAGMA data_version").fetchone()[0])
            if slug in self._known:
                return self._known[slug]
            row = connection.execute(self.SQL, (slug,)).fetchone()
        except sqlite3.Error:  # busy past the timeout, say: ask the way writers do
            async with self._sessions() as session:
                return await of_slug(session, slug)
        if row is None:
            return None
        changed = datetime.fromisoformat(row[2]).replace(tzinfo=UTC) if row[2] else None
        found = ContentVersion(row[0], row[1], changed, bool(row[3]), bool(row[4]))
        if len(self._known) >= self.KEPT:
            self._known.clear()
        self._known[slug] = found
        return found

    def _turn_begins(self, data_version: int) -> None:
        if data_version != self._data_version:
            self._known.clear()
            self._data_version = data_version
        self._asked_this_turn = True
        asyncio.get_running_loop().call_soon(self._turn_ends)

    def _turn_ends(self) -> None:
        self._asked_this_turn = False


def note(session: Session, community_id: int | None) -> None:
    """Note a change to ``community_id`` (None: every community) by a write the session
    cannot see for itself (raw SQL on its connection)."""
    noted: set[int] = session.info.setdefault(_COMMUNITIES, set())
    noted.add(ALL if community_id is None else community_id)


def _note_objects(session: Session, object_ids: Iterable[int | None]) -> None:
    ids = list(object_ids)
    if None in ids:
        note(session, None)
    else:
        session.info.setdefault(_OBJECTS, set()).update(ids)


class WatchedSession(Session):
    """A session that bumps the content version of the communities its writes change."""


@event.listens_for(WatchedSession, "before_flush")
def _note_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", "")
        if table not in TRACKED:
            continue
        if row in session.dirty and not session.is_modified(row, include_collections=False):
            continue
        if table == "communities":
            if row.id is not None:  # a new community has no page to change yet
                note(session, row.id)
        elif table in BY_COMMUNITY:
            note(session, row.community_id)
        elif table in BY_OBJECT:
            _note_objects(session, [row.object_id])
        else:
            note(session, None)


@event.listens_for(WatchedSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> Result[Any] | None:
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(getattr(state.statement, "table", None), "name", "")
    if table not in TRACKED:
        return None
    column = "object_id" if table in BY_OBJECT else "id" if table == "communities" else None
    column = column or ("community_id" if table in BY_COMMUNITY else None)
    named = _named(state, column) if column else None
    if named is None:
        # which communities it changes is not known: every one, if it changed a row at
        # all (a periodic purge that finds nothing to delete changes no page)
        result = state.invoke_statement()  # the later listeners (the write gate) run first
        if getattr(result, "rowcount", -1) != 0:
            note(state.session, None)
        return result
    if table in BY_OBJECT:
        _note_objects(state.session, named)
    else:
        for community_id in named:
            note(state.session, community_id)
    return None


def _named(state: ORMExecuteState, column: str) -> list[Any] | None:
    """The values of ``column`` a statement writes: from its parameters (an insert), or
    from a ``column = value`` among the conditions ANDed in its WHERE; None if unknown."""
    params = state.parameters
    rows: list[Mapping[str, Any]] = []
    if isinstance(params, Mapping):
        rows = [params] if params else []
    elif params:
        rows = list(params)
    if state.is_insert:
        multi = getattr(state.statement, "_multi_values", ())
        if multi:
            rows = [_by_name(values) for values in multi[0] if isinstance(values, Mapping)]
        elif not rows:
            rows = [_by_name(getattr(state.statement, "_values", None) or {})]
        found = [row.get(column) for row in rows]
        return found if found and all(v is not None for v in found) else None
    where = getattr(state.statement, "whereclause", None)
    return _condition_value(where, column) if where is not None else None


def _by_name(values: Mapping[Any, Any]) -> dict[str, Any]:
    """An insert's values by column name (its keys are columns or names, its values
    bound parameters or plain values)."""
    return {
        str(getattr(key, "key", key)): value.value if isinstance(value, BindParameter) else value
        for key, value in values.items()
    }


def _condition_value(where: ClauseElement, column: str) -> list[Any] | None:
    terms: Iterable[ClauseElement] = [where]
    if isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        terms = where.clauses
    for term in terms:
        if (
            isinstance(term, BinaryExpression)
            and term.operator is operators.eq
            and getattr(term.left, "name", None) == column
            and isinstance(term.right, BindParameter)
            and term.right.value is not None
        ):
            return [term.right.value]
    return None


# built once: a commit's bump is one cached statement
_BUMP_ALL = update(CommunityRow).values(
    content_version=CommunityRow.content_version + 1, content_changed_at=bindparam("at")
)
_BUMP = _BUMP_ALL.where(CommunityRow.id.in_(bindparam("ids", expanding=True)))


@event.listens_for(WatchedSession, "before_commit")
def _bump(session: Session) -> None:
    session.flush()  # rows still pending note their communities first (the commit would)
    if not (session.info.get(_COMMUNITIES) or session.info.get(_OBJECTS)):
        return
    noted: set[int] = session.info.pop(_COMMUNITIES, set())
    objects: set[int] = session.info.pop(_OBJECTS, set())
    connection = session.connection()  # not through do_orm_execute: this write is no change
    if objects and ALL not in noted:
        owners = connection.execute(
            select(ObjectRow.community_id).where(ObjectRow.id.in_(sorted(objects))).distinct()
        )
        noted.update(owners.scalars())
    now = datetime.now(UTC)
    if ALL in noted:
        connection.execute(_BUMP_ALL, {"at": now})
    elif noted:
        connection.execute(_BUMP, {"at": now, "ids": sorted(noted)})


@event.listens_for(WatchedSession, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: committed (bumped) or rolled back
        session.info.pop(_COMMUNITIES, None)
        session.info.pop(_OBJECTS, None)
