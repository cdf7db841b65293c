"""The adapter inside a running copub: API clients, the job worker and the pollers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from actors.settings import Settings
from actors.store.singletons import run_singleton
from actors.web.keys import SESSIONS, URLS
from adapters.discourse.api import UnknownCategory
from adapters.discourse.backfill import CategoryWalker
from adapters.discourse.client import BadCredentials, DiscourseError, Forbidden
from adapters.discourse.config import ForumConfig
from adapters.discourse.runtime import ForumRuntime, NoCommunity, make_client
from adapters.discourse.wire import WireError
from adapters.discourse.worker import JobWorker
from adapters.discourse.writes import ReplyObserver

log = logging.getLogger(__name__)

POLLER = "discourse-poller"  # the lock of the pollers (actors.store.singletons)


class DiscourseAdapter:
    def __init__(self, settings: Settings, forums: tuple[ForumConfig, ...]) -> None:
        self.settings = settings
        self.forums = {forum.community: forum for forum in forums}
        self.runtimes: dict[str, ForumRuntime] = {}
        self.worker: JobWorker | None = None
        self.observer = ReplyObserver(frozenset(self.forums), self.wake)

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def walker(self, slug: str) -> CategoryWalker:
        return CategoryWalker(self.runtimes[slug])

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: after copub's database context, before the app serves."""
        for slug, forum in self.forums.items():
            client = make_client(forum, self.settings)
            await client.start()
            self.runtimes[slug] = ForumRuntime(forum, client, app[URLS], app[SESSIONS])
        self.worker = JobWorker(app[SESSIONS], self.runtimes)
        tasks = [asyncio.create_task(self.worker.run(), name="discourse-jobs")]
        for slug in self.forums:
            tasks.append(asyncio.create_task(self._resolve(slug), name=f"discourse-{slug}"))
        polled = [slug for slug, forum in self.forums.items() if forum.poll_interval_seconds > 0]
        if polled:
            poller = run_singleton(app[SESSIONS], POLLER, lambda: self._poll_all(polled))
            tasks.append(asyncio.create_task(poller, name="discourse-poller"))
        try:
            yield
        finally:
            self.worker.stop()
            for task in tasks[1:]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for runtime in self.runtimes.values():
                await runtime.client.close()

    async def _resolve(self, slug: str) -> None:
        """At start: the configured category's id (a slug is looked up now), or a clear
        error. Until it resolves nothing is published (every path resolves it first)."""
        runtime = self.runtimes[slug]
        where = {"community": slug}
        try:
            category = await runtime.api.category()
        except UnknownCategory as exc:
            log.error("%s", exc, extra=where)
        except (DiscourseError, WireError) as exc:
            log.warning("%s: the category is not resolved yet: %s", runtime.forum.base_url, exc)
        else:
            log.info(
                "%s mirrors category %r (id %d, slug %r) of %s",
                slug,
                category.name,
                category.id,
                category.slug,
                runtime.forum.base_url,
                extra=where,
            )

    async def _poll_all(self, slugs: list[str]) -> None:
        """The pollers of every forum that polls, in the one process of a fleet holding the
        poller's lock (``actors.store.singletons``; on SQLite, the one process)."""
        await asyncio.gather(*(self._poll(slug) for slug in slugs))

    async def _poll(self, slug: str) -> None:
        """Reconcile every ``poll_interval_seconds``: what webhooks missed is caught here."""
        runtime = self.runtimes[slug]
        walker = CategoryWalker(runtime)
        failing = False
        while True:
            await asyncio.sleep(runtime.forum.poll_interval_seconds)
            try:
                counts = await walker.reconcile()
            except (BadCredentials, Forbidden) as exc:
                if not failing:
                    log.error(
                        "polling %s failed: %s; run `copub discourse check %s`",
                        runtime.forum.base_url,
                        exc,
                        slug,
                        extra={"community": slug},
                    )
                failing = True
                continue
            except (DiscourseError, NoCommunity) as exc:
                log.warning("polling %s failed: %s", runtime.forum.base_url, exc)
                continue
            except Exception:
                log.exception("polling %s failed", runtime.forum.base_url)
                continue
            failing = False
            if counts.changed:
                log.info("poll of %s caught up: %s", runtime.forum.base_url, counts)
