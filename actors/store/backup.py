"""Copies of the database: SQLite's online backup API, or the ``pg_dump`` to run instead.

:func:`backup_sqlite` copies a live database (the server may keep writing: with WAL a
reader blocks no writer) through the ``sqlite3`` module's ``Connection.backup``, into a
``.partial`` file renamed into place when complete, so ``path`` is never half a copy.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from actors.store.db import is_sqlite, sqlite_file


class BackupError(Exception):
    """The copy cannot be made; the message says why and what to do."""


def backup_sqlite(url: str, path: Path) -> int:
    """Copy the SQLite database of ``url`` to ``path`` (which must not exist); its size."""
    source = sqlite_file(url)
    if source is None:
        raise BackupError("the database is not a SQLite file (in memory?): nothing to copy")
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    if path.exists():
        raise BackupError(f"{path} exists already: remove it or name another file")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    src = sqlite3.connect(source, timeout=10.0)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # one step: a consistent snapshot, however busy the server is
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(partial, path)
    return path.stat().st_size


def pg_dump_command(url: str, path: Path) -> str:
    """The ``pg_dump`` command that saves the PostgreSQL database of ``url`` to ``path``
    (custom format, for ``pg_restore``); the password stays out (PGPASSWORD or ~/.pgpass)."""
    if is_sqlite(url):
        raise ValueError("not a PostgreSQL URL")
    given = make_url(url)
    target = URL.create(
        "postgresql", given.username, None, given.host, given.port, given.database, given.query
    )
    dsn = target.render_as_string(hide_password=False)
    return f"pg_dump --format=custom --file {shlex.quote(str(path))} {shlex.quote(dsn)}"
