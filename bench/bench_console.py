"""The console's dashboard with 1,000 followers and 1,000 items, next to a bare aiohttp
handler in the same event loop.

The community of bench_pages.py (400 stories, 300 practices with revisions, 300 events
with participants, members' posts) with 1,000 followers, a few hundred deliveries (some
retrying to failing peers) and links, in one SQLite database. A coordinator accepts an
invitation through the console (a real session: cookie, server-side row, CSRF token), then
the same keep-alive client asks for ``/console/c/bench`` again and again. The floor is a
bare aiohttp handler answering the same HTML bytes. copub, the floor and the client all run
in one process and one event loop, measured in the same run: p50/p99 in ms, and the ratio.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import bench_pages  # noqa: E402
from bench_http import free_port  # noqa: E402

from actors.accounts import invites  # noqa: E402
from actors.settings import settings_from_dict  # noqa: E402
from actors.store import queries  # noqa: E402
from actors.store.db import create_engine, sessionmaker  # noqa: E402
from actors.store.models import ActivityRow, DeliveryRow  # noqa: E402
from actors.store.models_links import LinkRow  # noqa: E402
from actors.web.app import create_app  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_CONSOLE_REQUESTS", "200"))
WARMUP = 20
FOLLOWERS = 1000
DELIVERIES, FAILING_HOSTS = 300, 5
PASSWORD = "a long enough bench password"  # noqa: S105 (a throwaway account)
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


async def populate(database_url: str, base_url: str) -> str:
    """The community, its queue and links; returns the path of a coordinator invitation."""
    bench_pages.FOLLOWERS = FOLLOWERS  # the page benchmark's data, with more followers
    await bench_pages.populate(database_url, base_url)
    engine = create_engine(database_url)
    sessions = sessionmaker(engine)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        community = await queries.get_community(session, "bench")
        assert community is not None
        activity = ActivityRow(
            ap_id=f"{base_url}/c/bench/a/1", community_id=community.id, ap_type="Create",
            object_ap_id=None, public=True, ap_json={"type": "Create"},
        )  # fmt: skip
        session.add(activity)
        await session.flush()
        for i in range(DELIVERIES):
            failing = i % 10 == 0
            host = f"down{i % FAILING_HOSTS}.example" if failing else f"social{i % 20}.example"
            session.add(
                DeliveryRow(
                    activity_id=activity.id, community_id=community.id,
                    inbox=f"https://{host}/users/m{i}/inbox", host=host,
                    state="retrying" if failing else "done", attempts=3 if failing else 1,
                    next_try_at=now + timedelta(hours=1), last_status=503 if failing else 202,
                    last_error="Service Unavailable" if failing else None,
                )
            )  # fmt: skip
        session.add_all(
            LinkRow(community_id=community.id, remote_actor_id=f"https://other{i}.example/c/g",
                    inbox=f"https://other{i}.example/inbox",
                    follow_activity_id=f"{base_url}/c/bench/a/link{i}", state="accepted",
                    policy="announce")
            for i in range(3)
        )  # fmt: skip
        link = await invites.coordinator_invite(
            session, community.id, valid=timedelta(days=1), now=now
        )
    await engine.dispose()
    return f"/console/invite/{link.token}"


async def sign_in(session: aiohttp.ClientSession, base: str, invite: str) -> None:
    """Accept the invitation as a new coordinator: the browser's session cookie is set."""
    async with session.get(base + invite) as response:
        found = CSRF_RE.search(await response.text())
        assert response.status == 200, response.status
        assert found, response.status
    form = {"csrf": found.group(1), "username": "bench", "password": PASSWORD,
            "confirm": PASSWORD}  # fmt: skip
    async with session.post(base + invite, data=form, headers={"Origin": base}) as response:
        await response.read()
        assert response.status == 200, response.status
    assert any(c.key.endswith("copub_session") for c in session.cookie_jar)


async def measure(session: aiohttp.ClientSession, url: str) -> list[float]:
    times = []
    for n in range(WARMUP + REQUESTS):
        start = time.perf_counter()
        async with session.get(url, headers=BROWSER, allow_redirects=False) as response:
            await response.read()
            assert response.status == 200, response.status
        if n >= WARMUP:
            times.append((time.perf_counter() - start) * 1000)
    return times


def p(times: list[float], q: int) -> float:
    return statistics.quantiles(times, n=100)[q - 1]


async def start(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def run(tmp: Path) -> None:
    port, floor_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    invite = await populate(database_url, base)
    settings = settings_from_dict(
        {"server": {"base_url": base, "port": port}, "database": {"url": database_url}}
    )
    copub = await start(create_app(settings), port)
    page_url = f"{base}/console/c/bench"
    body = b""

    async def floor(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    bare = web.Application()
    bare.router.add_get("/", floor)
    floor_runner = await start(bare, floor_port)
    try:
        # unsafe: keep the cookies of an IP address (127.0.0.1), as a browser does
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await sign_in(session, base, invite)
            async with session.get(page_url, headers=BROWSER, allow_redirects=False) as r:
                assert r.status == 200, r.status
                body = await r.read()
            bare_times = await measure(session, f"http://127.0.0.1:{floor_port}/")
            page_times = await measure(session, page_url)
    finally:
        await floor_runner.cleanup()
        await copub.cleanup()
    size = len(body) // 1024
    items = bench_pages.STORIES + bench_pages.PRACTICES + bench_pages.EVENTS
    print(f"console: {FOLLOWERS} followers, {items} items, dashboard {size} KiB of HTML, "
          f"{REQUESTS} requests, one event loop")  # fmt: skip
    for label, times in (("bare aiohttp, same HTML", bare_times),
                         ("dashboard, signed in", page_times)):  # fmt: skip
        ratio = p(times, 50) / p(bare_times, 50)
        print(f"console: {label:24s} p50 {p(times, 50):6.2f} ms  p99 {p(times, 99):6.2f} ms"
              f"  ratio p50 {ratio:.1f}x")  # fmt: skip


def main() -> None:
    asyncio.run(run(Path(tempfile.mkdtemp())))


if __name__ == "__main__":
    main()
