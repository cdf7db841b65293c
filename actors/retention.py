"""Retention: finished work does not stay forever.

Delivered (and given-up) deliveries, processed inbox items, the Discourse adapter's finished
jobs and network cache entries nobody refreshed are deleted once older than ``[retention]
done_days`` (the failed ones: ``failed_days``, kept longer to be looked into). The process
that runs the delivery worker purges every ``every_minutes`` (:func:`run_periodically`);
``copub purge`` purges at once, or with ``--dry-run`` counts what would go.

Rows go ``batch_size`` at a time, each batch its own short transaction (the SQL:
``actors.store.retention``); plugins add their tables through ``actors.hooks.Purger``.

On PostgreSQL one process of a fleet purges at a time: the periodic purge is the
``retention`` singleton (``actors.store.singletons``); when its holder dies another worker
takes over within seconds. On SQLite one process works on a database anyway.

A purged inbox item no longer keeps a second copy of its activity out (its dedupe key goes
with it); a copy that comes that late finds what it would store already there (a post by
its id, a follower by its actor).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points

from actors.hooks import Purger
from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.retention import TARGETS, Cutoffs
from actors.store.singletons import run_singleton
from federation.clock import utcnow

log = logging.getLogger(__name__)

PLUGIN_PURGERS = "copub.purgers"
SINGLETON = "retention"  # the lock of the periodic purge (actors.store.singletons)


@dataclass(frozen=True)
class RetentionSettings:
    """``[retention]``: how long finished work is kept, and how the purge runs."""

    # Finished rows (deliveries done, inbox items processed, Discourse jobs done, network
    # cache entries) older than this many days are deleted...
    done_days: float = 14.0
    # ...the failed ones (and cache entries whose last fetch failed) after this many.
    failed_days: float = 30.0
    # The process running the delivery worker purges every this many minutes (0: never;
    # `copub purge` still does).
    every_minutes: float = 60.0
    # Rows deleted per transaction: small batches never hold a lock for long.
    batch_size: int = 500

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these settings, as (field, why), for the settings loader."""
        found = [(key, "must be positive") for key in ("done_days", "failed_days")
                 if getattr(self, key) <= 0]  # fmt: skip
        if self.every_minutes < 0:
            found.append(("every_minutes", "must not be negative"))
        if not 1 <= self.batch_size <= 100_000:
            found.append(("batch_size", "must be between 1 and 100000"))
        return found

    def cutoffs(self, now: datetime) -> Cutoffs:
        return Cutoffs.at(now, done_days=self.done_days, failed_days=self.failed_days)


def purgers() -> list[Purger]:
    """copub's own tables, then each plugin's (``copub.purgers`` entry points)."""
    found: list[Purger] = list(TARGETS)
    for ep in entry_points(group=PLUGIN_PURGERS):
        found.append(ep.load())
    return found


Sessions = async_sessionmaker[AsyncSession]


async def count_old(
    sessions: Sessions, settings: RetentionSettings, now: datetime, tables: Sequence[Purger]
) -> dict[str, int]:
    """How many rows of each table a purge at ``now`` would delete (nothing is deleted)."""
    cutoffs = settings.cutoffs(now)
    async with sessions() as session:
        return {purger.name: await purger.count_old(session, cutoffs) for purger in tables}


async def purge(
    sessions: Sessions, settings: RetentionSettings, now: datetime, tables: Sequence[Purger]
) -> dict[str, int]:
    """Delete the old rows of each table, ``batch_size`` per transaction; how many went."""
    cutoffs = settings.cutoffs(now)
    purged: dict[str, int] = {}
    for purger in tables:
        total = 0
        while True:
            async with sessions.begin() as session:
                gone = await purger.purge_batch(session, cutoffs, settings.batch_size)
            total += gone
            if gone < settings.batch_size:
                break
            await asyncio.sleep(0)  # let other writers in between batches
        purged[purger.name] = total
    return purged


def summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


async def run_periodically(
    sessions: Sessions, settings: RetentionSettings, tables: Sequence[Purger]
) -> None:
    """Purge now, then every ``every_minutes``, until cancelled, in the one process holding
    the ``retention`` singleton (the others wait to take over). A failed pass is logged
    and the next one comes at its time."""

    async def passes() -> None:
        await _purge_periodically(sessions, settings, tables)

    await run_singleton(sessions, SINGLETON, passes)


async def _purge_periodically(
    sessions: Sessions, settings: RetentionSettings, tables: Sequence[Purger]
) -> None:
    while True:
        try:
            purged = await purge(sessions, settings, utcnow(), tables)
        except Exception:  # the database away for a moment: the next pass tries again
            log.warning("retention: the purge failed", exc_info=True)
        else:
            if any(purged.values()):
                log.info("retention: purged %s", summary(purged), extra={"purged": purged})
        await asyncio.sleep(settings.every_minutes * 60)
