"""Backfill (FEP-f228): when a reply arrives whose parent copub does not hold, the posts
above it and, through the thread's ``context`` collection where its server has one, the
rest of the conversation; and, on a schedule, the replies of a thread copub holds
(:mod:`actors.threads.refresh`).

:class:`Backfill` keeps what it confirmed as it goes, so a backfill cut short by its time
bound still files what it found."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from actors.threads.gather import (
    Fetch,
    Known,
    ancestors,
    collection_entries,
    confirmed_posts,
    context_id,
    parent_id,
)
from actors.threads.limits import DEFAULT_THREAD_SETTINGS, ThreadSettings
from federation.vocab import JSON, get_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    """What a backfill found of a reply's conversation, parents first."""

    above: list[JSON]  # the posts above the reply, the highest first
    rest: list[JSON]  # the others its thread's collection listed


@dataclass
class Backfill:
    """The posts of one conversation fetched so far, parents first."""

    fetch: Fetch
    known: Known
    limits: ThreadSettings = DEFAULT_THREAD_SETTINGS
    found: list[JSON] = field(default_factory=list)
    thread: set[str] = field(default_factory=set)

    async def above(self, obj: JSON) -> None:
        """The posts above ``obj`` that copub lacks."""
        self.thread.add(str(get_id(obj)))
        above = parent_id(obj)
        if above is not None:
            self.thread.add(above)
        chain = await ancestors(self.fetch, obj, self.known, self.limits)
        self.found.extend(chain)
        self.thread.update(str(p["id"]) for p in chain)

    async def collection(self, url: str) -> None:
        """The posts a thread's collection lists that join the conversation."""
        entries = await collection_entries(self.fetch, url, self.limits)
        room = self.limits.max_items - len(self.found)
        if room <= 0:
            return
        posts = await confirmed_posts(
            self.fetch, url, entries, self.known, self.thread, self.limits
        )
        self.found.extend(posts[:room])


async def backfill_reply(
    fetch: Fetch,
    known: Known,
    obj: JSON,
    *,
    is_local: Callable[[str], bool],
    limits: ThreadSettings = DEFAULT_THREAD_SETTINGS,
) -> Conversation:
    """The posts of ``obj``'s conversation that copub lacks: those above it, and those its
    (or its root's) ``context`` collection lists; what was confirmed within
    ``limits.backfill_seconds``."""
    work = Backfill(fetch, known, limits)
    above = 0
    try:
        async with asyncio.timeout(limits.backfill_seconds):
            await work.above(obj)
            above = len(work.found)
            contexts = [context_id(obj), *(context_id(p) for p in work.found[:1])]
            for url in dict.fromkeys(c for c in contexts if c and not is_local(c)):
                await work.collection(url)
    except TimeoutError:
        log.info("backfill of %s stopped after %.0f s", get_id(obj), limits.backfill_seconds)
    return Conversation(work.found[:above], work.found[above:])


async def refresh_thread(
    fetch: Fetch,
    known: Known,
    thread: Sequence[str],
    collections: Sequence[str],
    *,
    limits: ThreadSettings = DEFAULT_THREAD_SETTINGS,
) -> list[JSON]:
    """Posts of a held thread (the ids ``thread``) that copub lacks, from the thread's
    ``collections`` (its context, its posts' replies), within ``limits.backfill_seconds``."""
    work = Backfill(fetch, known, limits, thread=set(thread))
    try:
        async with asyncio.timeout(limits.backfill_seconds):
            for url in collections:
                if len(work.found) >= limits.max_items:
                    break
                await work.collection(url)
    except TimeoutError:
        log.info("refresh of a thread stopped after %.0f s", limits.backfill_seconds)
    return work.found
