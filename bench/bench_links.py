"""A story crossing two links: C -> B -> A on loopback, its latency and its HTTP requests.

Three copub servers (SQLite, in-process workers, one port each) and a Mastodon-like server
with one follower per community. A links B and B links C, both with the policy
``announce``. A story published on C (in C's process, as the CLI or API does) travels:
C's Create to B and to C's follower; B's Announce to A and to B's follower; A fetches the
story from C (its origin) and announces it to A's follower.

Latency: from C's commit to the Announce arriving at A's follower (ms; the first crossing,
with cold caches, and the median of the next ones). Requests: every HTTP request each
server answered during one warm crossing, counted by a response hook in each app. The
floor: the four sequential signed requests of the path (three POSTs and one GET),
measured with the same client against the same loopback follower server.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.content import StoryDraft  # noqa: E402
from actors.publishing.stories import publish_story  # noqa: E402
from actors.settings import settings_from_dict  # noqa: E402
from actors.store import queries  # noqa: E402
from actors.urls import Urls  # noqa: E402
from actors.web.app import create_app  # noqa: E402
from actors.web.keys import SESSIONS  # noqa: E402
from federation.client import FederationClient  # noqa: E402
from tests.factories import write_toml  # noqa: E402
from tests.flows.copub import Copub, config_dict, follow  # noqa: E402
from tests.flows.remote import Person, RemoteServer  # noqa: E402
from tests.links.network import Org, carrying, settled  # noqa: E402
from tests.pg import free_port  # noqa: E402

CROSSINGS = int(os.environ.get("BENCH_LINK_CROSSINGS", "10"))
SLUGS = ("hospital", "clinic", "college")


async def start(tmp: Path, name: str, counts: Counter[str]) -> Copub:
    """A copub on its own port and SQLite file, counting the requests it answers."""
    port = free_port()
    raw = config_dict(f"sqlite+aiosqlite:///{tmp / name}.sqlite3", port)
    settings = settings_from_dict(raw)
    app = create_app(settings)

    async def count(request: web.Request, _response: web.StreamResponse) -> None:
        counts[f"{name} {request.method} {_kind(request.path)}"] += 1

    app.on_response_prepare.append(count)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    config = write_toml(tmp / f"{name}.toml", raw)
    return Copub(server, app, config, Urls(settings.server.base_url), [])


def _kind(path: str) -> str:
    if path.endswith("/inbox"):
        return "inbox"
    if "/o/" in path:
        return "object"
    if path.startswith("/.well-known"):
        return "discovery"
    return "actor"


async def publish(org: Org, title: str) -> tuple[str, float]:
    """A story published in C's own process; (its id, the time of the commit)."""
    app = org.copub.app
    async with app[SESSIONS].begin() as session:
        community = await queries.get_community(session, org.slug)
        assert community is not None
        draft = StoryDraft(title=title, markdown="What we check at 7 am, and why.")
        row = await publish_story(session, org.copub.urls, community, draft)
    return row.ap_id, time.perf_counter()


async def crossing(orgs: tuple[Org, Org, Org], people: RemoteServer, fa: Person, n: int) -> float:
    a, b, c = orgs
    story, started = await publish(c, f"Story {n}")
    await people.wait_for(carrying(story, fa.inbox_path), timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    await settled(a, b, c)
    return elapsed


async def floor(people: RemoteServer, person: Person) -> float:
    """Four sequential signed requests (3 POSTs, 1 GET) to the follower server, in ms."""
    body = json.dumps({"type": "Note", "id": "urn:x", "actor": person.id}).encode()
    async with FederationClient("bench", allow_private_addresses=True) as client:
        await client.fetch_object(person.id, person.signer)  # warm the connection
        times = []
        for _ in range(20):
            started = time.perf_counter()
            for _post in range(3):
                await client.post_activity(people.base_url + person.inbox_path, body, person.signer)
            await client.fetch_object(person.id, person.signer)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main() -> None:
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        servers = [await start(Path(tmp), slug, counts) for slug in SLUGS]
        people = await RemoteServer().start()
        try:
            orgs = tuple(Org(s, slug) for s, slug in zip(servers, SLUGS, strict=True))
            a, b, c = orgs
            followers = []
            for org, name in zip(orgs, ("fa", "fb", "fc"), strict=True):
                await org.copub.create_community(org.slug)
                person = people.person(name, shared_inbox=False)
                await follow(people, person, org.copub, org.slug)
                followers.append(person)
            await a.link(b)
            await b.link(c)
            await settled(a, b, c)
            counts.clear()
            received = len(people.received)
            cold = await crossing((a, b, c), people, followers[0], 0)
            cold_requests = sum(counts.values()) + len(people.received) - received
            warm, per_crossing = [], []
            for n in range(1, CROSSINGS + 1):
                counts.clear()
                received = len(people.received)
                warm.append(await crossing((a, b, c), people, followers[0], n))
                per_crossing.append((Counter(counts), len(people.received) - received))
            bare = await floor(people, followers[0])
        finally:
            await people.close()
            for server in servers:
                await server.server.close()
    last, at_followers = per_crossing[-1]
    print(f"story C -> B -> A, {CROSSINGS} crossings on loopback (SQLite, 3 servers)")
    print(f"  latency to A's follower: first {cold:.1f} ms, then p50 "
          f"{statistics.median(warm):.1f} ms, max {max(warm):.1f} ms")  # fmt: skip
    print(f"  floor (4 sequential signed requests): {bare:.1f} ms")
    print(f"  HTTP requests per crossing: {sum(last.values()) + at_followers} "
          f"(first: {cold_requests})")  # fmt: skip
    for key, value in sorted(last.items()):
        print(f"    {key}: {value}")
    print(f"    followers' server POST inbox: {at_followers}")


if __name__ == "__main__":
    asyncio.run(main())
