"""A batch's fan-out, written at its commit.

An inbox batch (``actors.inbound.batch``) relays many of its items to the community's
followers: each relay is an ``activities`` row and one ``deliveries`` row per inbox. Written
as they come, that is an ORM flush and an executemany per relayed activity. In a session
that defers them (:func:`defer`), :func:`add` only keeps the rows, and :func:`write` writes
all that were kept at once: one INSERT ... RETURNING of the activities, then their
deliveries as ``jobs.write_deliveries`` queues them; the delivery worker is woken once.

They are written before the transaction commits (a ``before_commit`` listener, run before
the content-version bump, which they may need) and before any statement of the session that
reads or writes either table, so the transaction sees them where it looks for them, as if
each had been written at once. A rollback drops them with the rest. Nothing uses the row of
a deferred activity before the commit (its id is known only once written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.sql.util import find_tables

from actors.store import jobs
from actors.store.models import ActivityRow
from actors.store.versions import WatchedSession
from federation.clock import utcnow

_PENDING = "copub.fanout"  # Session.info: the deferred activities (absent: not deferring)
ACTIVITIES = cast(Table, ActivityRow.__table__)
TABLES = frozenset({"activities", "deliveries"})


@dataclass(frozen=True)
class _Pending:
    activity: dict[str, Any]  # its activities row
    inboxes: list[str]


def defer(session: AsyncSession) -> None:
    """Keep the fan-out of ``session``'s transaction until its commit."""
    session.info[_PENDING] = []


def deferring(session: AsyncSession) -> bool:
    return _PENDING in session.info


def add(
    session: AsyncSession,
    *,
    community_id: int,
    ap_json: dict[str, Any],
    object_ap_id: str | None,
    public: bool,
    inboxes: list[str],
) -> None:
    """The activity (as ``social.insert_activity`` writes it) and a delivery to each of
    ``inboxes`` (as ``jobs.enqueue_deliveries`` queues them), kept for :func:`write`."""
    row = {
        "ap_id": ap_json["id"],
        "community_id": community_id,
        "ap_type": ap_json["type"],
        "object_ap_id": object_ap_id,
        "public": public,
        "ap_json": ap_json,
        "created_at": utcnow(),
    }
    session.info[_PENDING].append(_Pending(row, inboxes))


def write(session: Session) -> None:
    """Write what ``session`` kept, if anything (synchronous: SQLAlchemy's layer, in its
    greenlet)."""
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if not pending:
        return
    session.info[_PENDING] = []
    # Each id is matched by its ap_id (unique), not by the rows' order: RETURNING in the
    # order of the parameters is one statement per row on SQLite (SQLAlchemy's
    # insertmanyvalues cannot order it there), each a round trip to aiosqlite's thread.
    statement = insert(ACTIVITIES).returning(ACTIVITIES.c.id, ACTIVITIES.c.ap_id)
    written = session.execute(statement, [p.activity for p in pending])
    ids = {ap_id: activity_id for activity_id, ap_id in written}
    jobs.write_deliveries(
        session,
        [
            jobs.Fanout(ids[p.activity["ap_id"]], p.activity["community_id"], p.inboxes)
            for p in pending
        ],
    )


@event.listens_for(WatchedSession, "before_commit", insert=True)
def _before_commit(session: Session) -> None:
    write(session)


@event.listens_for(WatchedSession, "do_orm_execute", insert=True)
def _before_statement(state: ORMExecuteState) -> None:
    """A statement on activities or deliveries sees the rows kept so far."""
    if not state.session.info.get(_PENDING):
        return
    statement = state.statement
    if not isinstance(statement, ClauseElement):
        return
    tables = find_tables(statement, include_crud=True, include_joins=True)
    if any(table.name in TABLES for table in tables):
        write(state.session)
