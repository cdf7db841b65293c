"""Is the database's schema the one this code was written for? Asked without Alembic.

``copub migrate`` and ``copub serve`` migrate; every other command, the delivery worker
included, only asks (:func:`require_current`) and stops with :class:`SchemaNotCurrent`
when the schema is behind or ahead: a command stays quick (importing Alembic and loading
every migration script costs more than most commands' work) and never changes the schema
behind the operator's back. ``/readyz`` and ``copub doctor`` ask the same question
(``actors.store.health``).

The revisions are read from the migration scripts' ``revision = "..."`` and
``down_revision = ...`` lines; a test checks that Alembic finds the same heads."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from actors.errors import Conflict

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


class SchemaNotCurrent(Conflict):
    """The database's schema is not this code's: behind (run ``copub migrate``), never
    migrated, or ahead (this copub is older than the one that migrated it)."""


@functools.cache
def revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(every revision of this code's migrations, the heads: those no other revision
    follows), read from the scripts' text once a process."""
    known: set[str] = set()
    followed: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        known.add(revision.group(1))
        down = _DOWN.search(source)
        if down is not None:
            followed.update(_QUOTED.findall(down.group(1)))
    return frozenset(known), frozenset(known - followed)


def head_revisions() -> frozenset[str]:
    """The revisions this code's migrations end at."""
    return revisions()[1]


def _problem(current: frozenset[str] | None) -> str | None:
    known, heads = revisions()
    if current is None:
        return "the database has no schema yet (run copub migrate)"
    if current == heads:
        return None
    have = ", ".join(sorted(current)) or "none"
    want = ", ".join(sorted(heads))
    if current <= known:
        return f"the schema is at revision {have}; this copub needs {want} (run copub migrate)"
    return (
        f"the schema is at revision {have}, which this copub does not know: a newer copub "
        f"migrated this database (this one needs {want}); run that version"
    )


# Whether alembic_version exists, asked of the catalogue in one statement (SQLAlchemy's
# inspector costs a PRAGMA and its own objects per process: a command pays it at each start)
_HAS_TABLE = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
    "AND name = 'alembic_version'",
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",
}


async def _current(conn: AsyncConnection) -> frozenset[str] | None:
    """The database's revisions; None when it was never migrated."""
    query = _HAS_TABLE.get(conn.dialect.name)
    if query is None:  # pragma: no cover - copub runs on SQLite and PostgreSQL only
        exists = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
    else:
        exists = bool((await conn.execute(text(query))).scalar())
    if not exists:
        return None
    rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(str(row[0]) for row in rows)


async def schema_problem(session: AsyncSession) -> str | None:
    """None when the database's schema is at this code's head, else what is wrong (the
    database is behind or ahead, or was never migrated). Raises when the database cannot
    be reached."""
    return _problem(await _current(await session.connection()))


async def require_current(engine: AsyncEngine) -> None:
    """Raise :class:`SchemaNotCurrent` unless the database is at this code's head: what a
    command other than ``copub migrate`` and ``copub serve`` does instead of migrating."""
    async with engine.connect() as conn:
        problem = _problem(await _current(conn))
    if problem is not None:
        raise SchemaNotCurrent(problem)


async def require_current_in(session: AsyncSession) -> None:
    """:func:`require_current` as the first statements of ``session``'s transaction, the
    one the command then works in (no connection of its own)."""
    problem = await schema_problem(session)
    if problem is not None:
        raise SchemaNotCurrent(problem)
