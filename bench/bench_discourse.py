"""Discourse backfill rate: topics imported per second from a fake forum, and what limits it.

The fake Discourse (tests/fakes/discourse.py) runs in this process on loopback with its
rate limit off, holding BENCH_TOPICS topics (every 30th with 65 posts, the others with 3,
like the flow test). Measured, on SQLite:

- floor: the same API calls with no database (listing pages, each topic, the rest of the
  long topics) - what the HTTP exchange and JSON parsing cost;
- backfill: `CategoryWalker.backfill()` as `copub discourse sync` runs it;
- again: the second run (nothing changed: the listing only).

A real forum allows an admin key 60 requests a minute (max_admin_api_reqs_per_minute), so
there the backfill runs at about (60 / requests per topic) / 60 topics a second; the line
"at 60 req/min" says what that is for this forum. BENCH_PROFILE=1 prints the top functions.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors import founding  # noqa: E402
from actors.settings import settings_from_dict  # noqa: E402
from actors.store.db import create_engine, migrate, sessionmaker  # noqa: E402
from actors.urls import Urls  # noqa: E402
from adapters.discourse.backfill import CategoryWalker  # noqa: E402
from adapters.discourse.config import parse_forums  # noqa: E402
from adapters.discourse.runtime import ForumRuntime, make_client  # noqa: E402
from tests.fakes.discourse import FakeDiscourse  # noqa: E402

TOPICS = int(os.environ.get("BENCH_TOPICS", "300"))
PROFILE = bool(os.environ.get("BENCH_PROFILE"))


async def main() -> None:
    async with FakeDiscourse(rate_limit=None) as forum:
        forum.add_user("copub-bot", "copub", admin=True)
        category = forum.add_category("night-shift", "Night shift")
        forum.add_key("bench-key", "copub-bot")
        forum.seed_topics(category, TOPICS, posts=3, long_every=30, long_posts=65)
        posts = sum(len(t.post_ids) for t in forum.topics.values())
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
            raw = {
                "server": {"base_url": "http://127.0.0.1:9"},
                "database": {"url": url},
                "federation": {"allow_private_addresses": True},
            }
            settings = settings_from_dict(raw)
            [forum_cfg] = parse_forums(
                {
                    "community": "nightshift",
                    "base_url": forum.base_url,
                    "api_key": "bench-key",
                    "api_username": "copub-bot",
                    "category": category.id,
                    "webhook_secret": "bench-secret-123",
                },
                "bench",
            )
            engine = create_engine(url)
            await migrate(engine)
            sessions = sessionmaker(engine)
            async with sessions.begin() as session:
                await founding.create_community(session, slug="nightshift", name="Night Shift")
            client = make_client(forum_cfg, settings)
            await client.start()
            runtime = ForumRuntime(forum_cfg, client, Urls("http://127.0.0.1:9"), sessions)
            try:
                await run(forum, runtime, posts)
            finally:
                await client.close()
                await engine.dispose()


async def run(forum: FakeDiscourse, runtime: ForumRuntime, posts: int) -> None:
    # floor: the API calls alone
    started = time.perf_counter()
    page, fetched = 0, 0
    while True:
        listing = await runtime.api.page(page)
        for summary in listing.topics:
            await runtime.api.topic(summary.id)
            fetched += 1
        page += 1
        if not listing.more:
            break
    floor = time.perf_counter() - started
    floor_requests = len(forum.exchanges)
    forum.exchanges.clear()
    profiler = cProfile.Profile() if PROFILE else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = await CategoryWalker(runtime).backfill()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    requests = len(forum.exchanges)
    forum.exchanges.clear()
    started = time.perf_counter()
    again = await CategoryWalker(runtime).backfill()
    second = time.perf_counter() - started
    assert report.counts.created == posts, report
    assert again.counts.created == 0
    assert again.topics_fetched == 0
    per_topic = requests / TOPICS
    print(
        f"discourse: {TOPICS} topics, {posts} posts, {requests} requests "
        f"({per_topic:.2f} per topic)"
    )
    print(
        f"discourse: floor (API calls, no database): {floor:.2f} s = "
        f"{fetched / floor:.0f} topics/s ({floor_requests} requests)"
    )
    print(
        f"discourse: backfill on SQLite: {wall:.2f} s = {TOPICS / wall:.0f} topics/s, "
        f"{posts / wall:.0f} posts/s ({wall / floor:.1f}x the floor)"
    )
    print(
        f"discourse: second run (nothing changed): {second:.2f} s, {len(forum.exchanges)} requests"
    )
    print(
        f"discourse: at 60 req/min (Discourse's default for an admin key): "
        f"{60 / per_topic / 60:.2f} topics/s, {TOPICS * per_topic / 60:.1f} min for these"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            25
        )


if __name__ == "__main__":
    asyncio.run(main())
