"""Replies that do not address the community, found on a schedule.

People often answer a member's post without naming the community; their servers then send
the reply to the member, not to the community. Every :attr:`ThreadSettings.refresh_minutes`
copub looks again at its liveliest recent threads (a post in the last
:attr:`ThreadSettings.refresh_days`, at most :attr:`ThreadSettings.refresh_threads`): each
thread's ``context`` collection where its server has one (FEP-7888), and the ``replies``
collections of the latest remote posts it holds in it. What they list is confirmed by its
own server and filed as :mod:`actors.threads.backfill` files a backfill. One process of a
fleet does it (the ``thread-refresh`` singleton, actors/store/singletons.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.community import Community
from actors.hooks import ObjectObserver
from actors.store import queries, threads
from actors.store.db import AsyncSession, async_sessionmaker, begin_deferred
from actors.store.models import ObjectRow
from actors.store.singletons import run_singleton
from actors.threads.backfill import refresh_thread
from actors.threads.filing import file_posts
from actors.threads.gather import context_id, replies_id
from actors.threads.limits import DEFAULT_THREAD_SETTINGS, ThreadSettings
from federation.clock import utcnow
from federation.vocab import JSON

log = logging.getLogger(__name__)

SINGLETON = "thread-refresh"


def collections_of(
    posts: Sequence[ObjectRow], is_local: Callable[[str], bool], max_replies: int
) -> list[str]:
    """Where a held thread's servers list its posts: the contexts its remote posts name,
    then the ``replies`` of its latest remote posts (copub's own are in its database)."""
    remote = [p for p in posts if not p.local]
    contexts = [context_id(p.ap_json) for p in remote]
    latest = sorted(remote, key=lambda p: p.published, reverse=True)[:max_replies]
    replies = [replies_id(p.ap_json) for p in latest]
    return list(dict.fromkeys(u for u in (*contexts, *replies) if u and not is_local(u)))


@dataclass
class Refresher:
    """One pass over the recent threads (:meth:`once`), and the schedule (:meth:`run`)."""

    sessions: async_sessionmaker[AsyncSession]
    fetch: Callable[[str, Community | None], Awaitable[JSON]]  # Remote.fetch_object
    is_local: Callable[[str], bool]
    observers: Sequence[ObjectObserver] = ()
    settings: ThreadSettings = DEFAULT_THREAD_SETTINGS

    async def _known(self, ap_ids: Sequence[str]) -> set[str]:
        async with self.sessions() as session:
            return await threads.held_ids(session, ap_ids)

    async def once(self, now: datetime | None = None) -> int:
        """Look at the recent threads once; how many posts were new."""
        since = (now or utcnow()) - timedelta(days=self.settings.refresh_days)
        async with self.sessions() as session:
            roots = await threads.recent_roots(session, since, limit=self.settings.refresh_threads)
        found = 0
        for community_id, root in roots:
            found += await self.thread(community_id, root)
        return found

    async def thread(self, community_id: int, root: str) -> int:
        """Look at one thread again; how many posts were new."""
        async with self.sessions() as session:
            community = await queries.get_community_by_id(session, community_id)
            posts = await threads.thread_posts(session, root, limit=self.settings.max_items)
        if community is None or not posts:
            return 0
        urls = collections_of(posts, self.is_local, self.settings.refresh_replies)
        if not urls:
            return 0
        held = community

        async def fetch(url: str) -> JSON:
            return await self.fetch(url, held)

        found = await refresh_thread(
            fetch, self._known, [p.ap_id for p in posts], urls, limits=self.settings
        )
        if not found:
            return 0
        async with begin_deferred(self.sessions) as session:
            return await file_posts(session, community, found, observers=self.observers)

    async def run(self) -> None:
        """A pass every ``refresh_minutes``, in the one process holding the singleton,
        until cancelled; a failed pass is logged and the next comes at its time."""

        async def passes() -> None:
            while True:  # first after a while: a restart does not fetch every thread again
                await asyncio.sleep(self.settings.refresh_minutes * 60)
                try:
                    await self.once()
                except Exception:
                    log.warning("thread refresh: the pass failed", exc_info=True)

        await run_singleton(self.sessions, SINGLETON, passes)
