"""Hooks for plugins (adapters): who wants to know when a member's post is stored.

actors never imports an adapter; an adapter's ``setup(app, settings)`` appends an
:class:`ObjectObserver` to ``app[OBJECT_OBSERVERS]``. ``actors.items`` tells the observers
it is given (:func:`object_stored` and the rest are called there only); the inbound
handlers give them for what members send (filed as posts, replies, practices or events),
its edits and its deletion.

Observers run *inside* the write transaction that stores, edits or deletes the object,
after the row is flushed: an observer writes its own durable rows there (a queue of work
for later), so the object and the work it causes commit together or not at all. Network
I/O belongs after the commit (a worker that reads the queue), never in an observer.

An adapter may also show what it does on a community's dashboard in the console: it
appends a :class:`DashboardSource` to ``app[DASHBOARD_PANELS]``; the dashboard asks each
for its :class:`Panel` (reads only, in the dashboard's session, no network I/O).

An adapter whose tables grow with finished work (the Discourse adapter's jobs) has them
purged with copub's own (``actors.retention``: the server's periodic purge and ``copub
purge``): it declares a :class:`Purger` for each table as an entry point, like its models::

    [project.entry-points."copub.purgers"]
    discourse = "adapters.discourse.store:FORUM_JOBS_PURGE"

An entry point, not ``setup()``: its tables exist whether or not the config lists the
adapter (the migrations create them), and ``copub purge`` and ``copub worker`` build no app.
``actors.store.retention.PurgeTarget`` is a ready :class:`Purger` for a table with a state
and a time column (``finished_jobs`` for a table of retried jobs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from actors.community import Community
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.retention import Cutoffs


class ObjectObserver(Protocol):
    """Told about remote posts and replies a community stored, edited or deleted."""

    async def on_object_stored(self, session: AsyncSession, row: ObjectRow) -> None: ...

    async def on_object_updated(self, session: AsyncSession, row: ObjectRow) -> None: ...

    async def on_object_deleted(self, session: AsyncSession, row: ObjectRow) -> None: ...


async def object_stored(
    observers: Sequence[ObjectObserver], session: AsyncSession, row: ObjectRow
) -> None:
    for observer in observers:
        await observer.on_object_stored(session, row)


async def object_updated(
    observers: Sequence[ObjectObserver], session: AsyncSession, row: ObjectRow
) -> None:
    for observer in observers:
        await observer.on_object_updated(session, row)


async def object_deleted(
    observers: Sequence[ObjectObserver], session: AsyncSession, row: ObjectRow
) -> None:
    for observer in observers:
        await observer.on_object_deleted(session, row)


@dataclass(frozen=True)
class Panel:
    """A plugin's part of a community's dashboard: a heading, facts (label, value) and
    problems the coordinator should know of (shown as alerts)."""

    title: str
    facts: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()


class DashboardSource(Protocol):
    """Shows a panel on a community's dashboard, or nothing (None) for a community it has
    no part in. Reads only, in the given session; no network I/O (the page stays fast)."""

    async def dashboard_panel(
        self, session: AsyncSession, community: Community
    ) -> Panel | None: ...


class Purger(Protocol):
    """Deletes one table's finished rows once retention is over ([retention] in the config).

    ``name`` is what reports show (the table's name). Both methods run in the session they
    are given: ``count_old`` counts what would go (``copub purge --dry-run``);
    ``purge_batch`` deletes at most ``limit`` of those rows and returns how many went. The
    caller commits after every batch and asks again until a batch comes back short, so a
    batch must be one short statement (no network I/O, no long scan holding locks)."""

    @property
    def name(self) -> str: ...

    async def count_old(self, session: AsyncSession, cutoffs: Cutoffs) -> int: ...

    async def purge_batch(self, session: AsyncSession, cutoffs: Cutoffs, limit: int) -> int: ...
