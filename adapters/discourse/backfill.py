"""Walking the category: the one-time backfill (resumable) and the periodic reconciliation.

The listing (``/c/{slug}/{id}.json?page=N``, 30 topics a page, latest activity first) says
for each topic its ``bumped_at`` and ``highest_post_number``; a topic whose values match
what we stored is not fetched again. The backfill saves the next page to read after each
page, so an interrupted run resumes there; running it again fetches only what changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from adapters.discourse import store
from adapters.discourse.api import Category
from adapters.discourse.models import ForumTopicRow
from adapters.discourse.outcome import LIVE, QUIET, Announce, Counts
from adapters.discourse.runtime import ForumRuntime
from adapters.discourse.wire import TopicSummary, WireError
from federation.clock import utcnow

log = logging.getLogger(__name__)

MAX_POLL_PAGES = 10
# topics fetched at once: a little overlap of network and database; a real forum's rate
# limit (60 requests a minute for an admin key) is the bound anyway, honoured by the client
FETCH_CONCURRENCY = 4
T = TypeVar("T")


async def _gather(call: Callable[[int], Awaitable[T]], keys: list[int], limit: int) -> list[T]:
    """``call(key)`` for each key, ``limit`` at a time, results in order; the first failure
    cancels the rest."""
    gate = asyncio.Semaphore(limit)

    async def one(key: int) -> T:
        async with gate:
            return await call(key)

    tasks = [asyncio.ensure_future(one(k)) for k in keys]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


@dataclass
class SyncReport:
    start_page: int = 0
    pages: int = 0
    topics_listed: int = 0
    topics_fetched: int = 0
    topics_removed: int = 0
    finished: bool = False
    counts: Counts = field(default_factory=Counts)


def _changed(summary: TopicSummary, state: ForumTopicRow | None) -> bool:
    return (
        state is None
        or state.deleted
        or state.bumped_at != summary.bumped_at
        or state.highest_post_number != summary.highest_post_number
    )


class CategoryWalker:
    def __init__(self, runtime: ForumRuntime) -> None:
        self.runtime = runtime

    def _in_scope(self, summary: TopicSummary, category: Category) -> bool:
        return (
            summary.archetype == "regular"
            and summary.category_id == category.id
            and summary.id != category.about_topic_id
        )

    async def backfill(
        self,
        *,
        announce: bool = False,
        full: bool = False,
        restart: bool = False,
        progress: Callable[[int], None] = lambda _n: None,
        stop_after_pages: int | None = None,
    ) -> SyncReport:
        """Import the category's topics. ``announce``: followers get the new topics as new.
        ``full``: fetch every topic, changed or not (catches edits that bump nothing)."""
        runtime = self.runtime
        community = await runtime.community()
        category = await runtime.api.category()
        report = await self._start(community.id, category, restart=restart)
        policy = Announce(topics=announce, replies=announce) if announce else QUIET
        mirror = await runtime.mirror()
        seen: set[int] = set()
        page = report.start_page
        while True:
            listing = await runtime.api.page(page)
            async with runtime.sessions() as session:
                states = await store.topic_states(
                    session, community.id, [t.id for t in listing.topics]
                )
            listed = [t for t in listing.topics if self._in_scope(t, category)]
            seen.update(t.id for t in listed)
            todo = [t for t in listed if full or _changed(t, states.get(t.id))]
            fetched = await _gather(runtime.fetch, [t.id for t in todo], FETCH_CONCURRENCY)
            page += 1
            async with runtime.sessions.begin() as session:  # one transaction a page
                for summary, topic in zip(todo, fetched, strict=True):
                    report.counts.add(
                        await runtime.apply(
                            session,
                            mirror,
                            summary.id,
                            topic,
                            announce=policy,
                            bumped_at=summary.bumped_at,
                        )
                    )
                state = await store.forum_state(session, community.id)
                state.backfill_page = page if listing.more else 0
                if not listing.more:
                    state.backfill_finished_at = utcnow()
            report.topics_listed += len(listing.topics)
            report.topics_fetched += len(todo)
            report.pages += 1
            progress(len(listing.topics))
            if not listing.more:
                break
            if stop_after_pages is not None and report.pages >= stop_after_pages:
                return report  # interrupted on purpose (tests); resumes at `page`
        if report.start_page == 0:  # the whole category was listed: what vanished from it?
            await self._vanished(community.id, seen, report)
        report.finished = True
        return report

    async def _start(self, community_id: int, category: Category, *, restart: bool) -> SyncReport:
        """Where the backfill starts (the page after the last one done, unless ``restart``),
        and when it first started."""
        async with self.runtime.sessions.begin() as session:
            state = await store.forum_state(session, community_id)
            if restart:
                state.backfill_page = 0
            if state.backfill_started_at is None:
                state.backfill_started_at = utcnow()
            state.category_id, state.category_slug = category.id, category.slug
            return SyncReport(start_page=state.backfill_page)

    async def _recheck(self, community_id: int) -> Counts:
        """``recheck_topics_per_poll`` mirrored topics read again in full, the least recently
        read first, among the ``recheck_recent_topics`` newest: what no listing shows (an
        edit that bumps nothing, a deleted post, a topic deleted or moved away) is caught
        within recent / per_poll polls. A topic read by this poll's listing pass was just
        read, so it comes last."""
        forum = self.runtime.forum
        counts = Counts()
        if forum.recheck_topics_per_poll <= 0:
            return counts
        async with self.runtime.sessions() as session:
            due = await store.topics_to_recheck(
                session,
                community_id,
                recent=forum.recheck_recent_topics,
                limit=forum.recheck_topics_per_poll,
            )
        for topic_id, bumped_at in due:
            try:
                counts.add(
                    await self.runtime.sync_topic(topic_id, announce=LIVE, bumped_at=bumped_at)
                )
            except WireError as exc:  # one unreadable topic does not stop the others
                log.warning("topic %d could not be read: %s", topic_id, exc)
        return counts

    async def _vanished(self, community_id: int, seen: set[int], report: SyncReport) -> None:
        """Topics we mirror that the complete listing no longer shows: deleted, moved to
        another category, or hidden from the bot. Each is looked at, and removed if gone."""
        async with self.runtime.sessions() as session:
            known = await store.live_topic_ids(session, community_id)
        for topic_id in sorted(known - seen):
            counts = await self.runtime.sync_topic(topic_id, announce=QUIET)
            report.counts.add(counts)
            async with self.runtime.sessions() as session:
                state = await store.topic_state(session, community_id, topic_id)
            if state is not None and state.deleted:
                report.topics_removed += 1
                log.info("topic %d left the category", topic_id)

    async def reconcile(self) -> Counts:
        """What webhooks missed: topics bumped since we last saw them (the listing's first
        pages, until an unchanged topic), then a few mirrored topics read again in full
        (:meth:`_recheck`). Only after a backfill: old topics are not news."""
        runtime = self.runtime
        community = await runtime.community()
        counts = Counts()
        async with runtime.sessions() as session:
            state = await store.forum_state(session, community.id)
            if state.backfill_finished_at is None:
                log.info(
                    "not polling %s: run `copub discourse sync %s` first",
                    runtime.forum.base_url,
                    runtime.slug,
                    extra={"community": runtime.slug},
                )
                return counts
        category = await runtime.api.category()
        for page in range(MAX_POLL_PAGES):
            listing = await runtime.api.page(page)
            async with runtime.sessions() as session:
                states = await store.topic_states(
                    session, community.id, [t.id for t in listing.topics]
                )
            listed = [t for t in listing.topics if self._in_scope(t, category)]
            changed = [t for t in listed if _changed(t, states.get(t.id))]
            for summary in changed:
                counts.add(
                    await runtime.sync_topic(summary.id, announce=LIVE, bumped_at=summary.bumped_at)
                )
            # latest activity first: past an unchanged topic (not a pinned one, which stays
            # on top), the rest of the listing is unchanged too
            settled = any(not t.pinned for t in listed if t not in changed)
            if settled or not listing.more:
                break
        counts.add(await self._recheck(community.id))
        async with runtime.sessions.begin() as session:
            (await store.forum_state(session, community.id)).last_poll_at = utcnow()
        return counts
