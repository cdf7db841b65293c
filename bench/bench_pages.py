"""Community page time with 1,000 items, next to a bare aiohttp handler.

A community with 400 stories, 300 practices (3 revisions each) and 300 events (a third
recurring, each with participants), 200 followers and 500 members' posts in one SQLite
database; one ``copub serve`` process answers its page for a browser:

- the page as a browser gets it (its render cache: rendered once per change);
- the 304 path: the browser asks again with the page's ETag (``If-None-Match``);
- rendered on each view (a second server with ``[pages] html_seconds = 0`` and the circles
  counted each view): what a change costs the first visitor after it.

The floors are a bare aiohttp handler (another process) answering the same HTML bytes, and
the same handler answering 304 to the same ``If-None-Match``. All are measured in the same
run by the same sequential keep-alive client: p50/p99 in ms, and the ratio to its floor.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from actors import founding
from actors.store.db import create_engine, migrate, sessionmaker
from actors.store.models import FollowerRow, ObjectRow, RemoteActorRow
from actors.store.models_practice import EventDetailRow, ParticipantRow, RevisionRow
from actors.urls import Urls

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import free_port, wait_ready

REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "200"))
WARMUP = 20
STORIES, PRACTICES, EVENTS = 400, 300, 300
FOLLOWERS, POSTS = 200, 500
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

FLOOR = """
import sys
from aiohttp import web
body = open(sys.argv[2], "rb").read()
etag = sys.argv[3]
async def page(request):
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(body=body, content_type="text/html", charset="utf-8",
                        headers={"ETag": etag})
app = web.Application()
app.router.add_get("/", page)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _object(urls: Urls, community_id: int, kind: str, ap_type: str, i: int, when: datetime,
            **extra: object) -> ObjectRow:  # fmt: skip
    url = urls.object("bench", f"{kind[0]}{i}")
    text = f"<p>{kind.title()} {i}: what we learned, and what we would do again.</p>" * 3
    return ObjectRow(
        ap_id=url, community_id=community_id, kind=kind, ap_type=ap_type, local=True,
        attributed_to=urls.community("bench"), title=f"{kind.title()} {i}", content_html=text,
        source_markdown=text, ap_json={"id": url, "type": ap_type, "content": text},
        published=when, **extra,
    )  # fmt: skip


async def populate(database_url: str, base_url: str) -> None:
    urls = Urls(base_url)
    engine = create_engine(database_url)
    await migrate(engine)
    sessions = sessionmaker(engine)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        community = await founding.create_community(
            session, slug="bench", name="Bench", summary="Benchmarks.", closed=False
        )
        cid = community.id
        members = [f"https://social{i % 20}.example/users/m{i}" for i in range(FOLLOWERS)]
        session.add_all(
            RemoteActorRow(ap_id=m, inbox=m + "/inbox", name=f"Member {i}",
                           handle=f"m{i}@social{i % 20}.example")
            for i, m in enumerate(members)
        )  # fmt: skip
        session.add_all(
            FollowerRow(community_id=cid, actor_id=m, inbox=m + "/inbox", state="accepted",
                        follow_activity_id=m + "#follow")
            for m in members
        )  # fmt: skip
        session.add_all(
            _object(urls, cid, "story", "Note", i, now - timedelta(hours=i)) for i in range(STORIES)
        )
        practices = [
            _object(urls, cid, "practice", "Article", i, now - timedelta(days=i),
                    status=("emerging", "established", "retired")[i % 3], summary="The gist.")
            for i in range(PRACTICES)
        ]  # fmt: skip
        events = [
            _object(urls, cid, "event", "Event", i, now - timedelta(days=i)) for i in range(EVENTS)
        ]
        session.add_all([*practices, *events])
        for i in range(POSTS):
            author = members[(i * 7) % 60]  # a few dozen people write most posts
            url = f"{author}/statuses/{i}"
            session.add(
                ObjectRow(ap_id=url, community_id=cid, kind="post", ap_type="Note", local=False,
                          attributed_to=author, content_html=f"<p>Post {i}</p>",
                          ap_json={"id": url}, published=now - timedelta(hours=i * 3))
            )  # fmt: skip
        await session.flush()
        for p in practices:
            session.add_all(
                RevisionRow(object_id=p.id, number=n, editor=urls.community("bench"),
                            title=p.title, source_markdown=f"Version {n}", status=p.status)
                for n in (1, 2, 3)
            )  # fmt: skip
        for i, e in enumerate(events):
            start = now + timedelta(days=i - EVENTS // 2, hours=i % 24)
            end = start + timedelta(hours=1)
            session.add(
                EventDetailRow(object_id=e.id, start_time=start, end_time=end,
                               timezone="Europe/Berlin", location_name="Room 3",
                               rrule="FREQ=MONTHLY" if i % 3 == 0 else None)
            )  # fmt: skip
            session.add_all(
                ParticipantRow(object_id=e.id, actor_id=members[(i + k) % FOLLOWERS],
                               join_activity_id=f"{members[(i + k) % FOLLOWERS]}#join{e.id}")
                for k in range(3)
            )  # fmt: skip
    await engine.dispose()


async def measure(url: str, etag: str | None = None) -> list[float]:
    times = []
    headers = BROWSER if etag is None else {**BROWSER, "If-None-Match": etag}
    async with aiohttp.ClientSession() as session:
        for n in range(WARMUP + REQUESTS):
            start = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                assert response.status == (200 if etag is None else 304), response.status
            if n >= WARMUP:
                times.append((time.perf_counter() - start) * 1000)
    return times


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100)[q - 1]


async def run(copub_url: str, uncached_url: str, floor_port: int, body_file: Path) -> None:
    await wait_ready(copub_url)
    await wait_ready(uncached_url)
    async with aiohttp.ClientSession() as session, session.get(copub_url, headers=BROWSER) as r:
        body_file.write_bytes(await r.read())
        etag = r.headers["ETag"]
    floor = subprocess.Popen(
        [sys.executable, "-c", FLOOR, str(floor_port), str(body_file), etag],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        floor_url = f"http://127.0.0.1:{floor_port}/"
        await wait_ready(floor_url)
        bare = await measure(floor_url)
        bare_304 = await measure(floor_url, etag)
        page = await measure(copub_url)
        page_304 = await measure(copub_url, etag)
        uncached = await measure(uncached_url)
    finally:
        floor.terminate()
        floor.wait(10)
    size = body_file.stat().st_size // 1024
    print(f"pages: {STORIES + PRACTICES + EVENTS} items, {size} KiB of HTML, {REQUESTS} requests")
    for label, times, floor_times in (
        ("bare aiohttp, same HTML", bare, None),
        ("bare aiohttp, 304", bare_304, None),
        ("community page", page, bare),
        ("community page, 304", page_304, bare_304),
        ("  rendered each view", uncached, bare),
    ):
        ratio = f"  ratio p50 {p(times, 50) / p(floor_times, 50):.1f}x" if floor_times else ""
        print(f"pages: {label:28s} p50 {p(times, 50):6.2f} ms  p99 {p(times, 99):6.2f} ms{ratio}")


def serve(
    tmp: Path, name: str, port: int, database_url: str, extra: str = ""
) -> subprocess.Popen[bytes]:
    config = tmp / f"{name}.toml"
    config.write_text(
        f'[server]\nbase_url = "http://127.0.0.1:{port}"\nport = {port}\n'
        f'[database]\nurl = "{database_url}"\n{extra}'
    )
    return subprocess.Popen(
        [sys.executable, "-m", "actors.cli", "serve"],
        env={**os.environ, "COPUB_CONFIG": str(config)}, cwd=tmp,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    port, uncached_port, floor_port = free_port(), free_port(), free_port()
    database_url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    asyncio.run(populate(database_url, f"http://127.0.0.1:{port}"))
    servers = [
        serve(tmp, "copub", port, database_url),
        # the same database seen from another origin: the objects are not its own, but the
        # community page reads them all the same; no render cache, the circles each view
        serve(tmp, "uncached", uncached_port, database_url,
              "[participation]\nrefresh_seconds = 0\n[pages]\nhtml_seconds = 0\n"
              "[delivery]\nin_process_worker = false\n"),
    ]  # fmt: skip
    try:
        asyncio.run(
            run(
                f"http://127.0.0.1:{port}/c/bench",
                f"http://127.0.0.1:{uncached_port}/c/bench",
                floor_port,
                tmp / "page.html",
            )
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
