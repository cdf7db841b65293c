"""Walking the category: the one-time backfill (resumable) and the periodic reconciliation.

The listing (``/c/{slug}/{id}.json?page=N``, 30 topics a page, latest activity first) says
for each topic its ``bumped_at`` and ``highest_post_number``; a topic whose values match
what we stored is not fetched again. The backfill saves the next page to read after each
page, so an interrupted run resumes there; running it again fetches only what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.store.models import utcnow
from adapters.discourse import store
from adapters.discourse.models import ForumTopicRow
from adapters.discourse.runtime import ForumRuntime
from adapters.discourse.sync import LIVE, QUIET, Announce, Counts
from adapters.discourse.wire import TopicSummary

log = logging.getLogger(__name__)

MAX_POLL_PAGES = 10


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

    def _in_scope(self, summary: TopicSummary, category_id: int) -> bool:
        return summary.archetype == "regular" and summary.category_id in (None, category_id)

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
        async with runtime.sessions.begin() as session:
            state = await store.forum_state(session, community.id)
            if restart:
                state.backfill_page = 0
            if state.backfill_started_at is None:
                state.backfill_started_at = utcnow()
            state.category_id, state.category_slug = category.id, category.slug
            report = SyncReport(start_page=state.backfill_page)
        policy = Announce(topics=announce, replies=announce) if announce else QUIET
        seen: set[int] = set()
        page = report.start_page
        while True:
            listing = await runtime.api.page(page)
            async with runtime.sessions() as session:
                states = await store.topic_states(
                    session, community.id, [t.id for t in listing.topics]
                )
            for summary in listing.topics:
                report.topics_listed += 1
                if self._in_scope(summary, category.id):
                    seen.add(summary.id)
                    if full or _changed(summary, states.get(summary.id)):
                        report.topics_fetched += 1
                        report.counts.add(
                            await runtime.sync_topic(
                                summary.id, announce=policy, bumped_at=summary.bumped_at
                            )
                        )
                progress(1)
            page += 1
            report.pages += 1
            async with runtime.sessions.begin() as session:
                state = await store.forum_state(session, community.id)
                state.backfill_page = page if listing.more else 0
                if not listing.more:
                    state.backfill_finished_at = utcnow()
            if not listing.more:
                break
            if stop_after_pages is not None and report.pages >= stop_after_pages:
                return report  # interrupted on purpose (tests); resumes at `page`
        if report.start_page == 0:  # the whole category was listed: what vanished from it?
            report.topics_removed = await self._vanished(community.id, seen)
        report.finished = True
        return report

    async def _vanished(self, community_id: int, seen: set[int]) -> int:
        async with self.runtime.sessions() as session:
            known = await store.live_topic_ids(session, community_id)
        removed = 0
        for topic_id in sorted(known - seen):
            counts = await self.runtime.sync_topic(topic_id, announce=QUIET)
            async with self.runtime.sessions() as session:
                state = await store.topic_state(session, community_id, topic_id)
            removed += int(state is not None and state.deleted)
            if counts.changed:
                log.info("topic %d left the category", topic_id)
        return removed

    async def reconcile(self) -> Counts:
        """What webhooks missed: topics bumped since we last saw them (pages of the listing
        until one has no change). Only after a backfill, so old topics never count as new."""
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
            changed = [
                t
                for t in listing.topics
                if self._in_scope(t, category.id) and _changed(t, states.get(t.id))
            ]
            for summary in changed:
                counts.add(
                    await runtime.sync_topic(summary.id, announce=LIVE, bumped_at=summary.bumped_at)
                )
            if not changed or not listing.more:
                break
        async with runtime.sessions.begin() as session:
            (await store.forum_state(session, community.id)).last_poll_at = utcnow()
        return counts
