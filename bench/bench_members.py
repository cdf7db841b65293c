"""Members-only 404s: does an outsider's 404 say by its time whether an item exists?

One ``copub serve`` process (SQLite) with two communities of 1,000 stories each: ``ward``,
members-only, and ``kept``, members-only when it published them and public since (its
earlier items kept for its members: objects.members_only). An outsider asks for items
that exist and for ids that do not, alternately (which of the two goes first alternates
too), BENCH_MEMBERS_REQUESTS (2,000) of each, after a warm-up:

- ``ward``, unsigned: the gate answers 404 before anything is looked up;
- ``ward``, signed by a stranger's key (no member): the signature is verified and the
  membership read, then the same 404;
- ``kept``, unsigned: the item is looked up (is it one kept for members?), then the
  handler's own 404 of a missing item for both.

Printed: p50, p90 and p99 in ms of each, and the difference of the existing item's to
the missing one's (the same within noise is what the gate promises, README "Members-only
communities"). A sequential keep-alive client; each pair measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from actors import founding, signing
from actors.members import Visibility
from actors.store.db import AsyncSession, create_engine, migrate, sessionmaker
from actors.store.models import ObjectRow, RemoteActorRow, RemoteKeyRow
from actors.urls import Urls
from federation.httpsig import sign_request
from federation.keys import Signer

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import free_port, wait_ready
from bench_pages import serve

REQUESTS = int(os.environ.get("BENCH_MEMBERS_REQUESTS", "2000"))
WARMUP = 100
ITEMS = 1000
AS2 = {"Accept": "application/activity+json"}
STRANGER = "https://stranger.example/users/sam"


@asynccontextmanager
async def _transaction(database_url: str) -> AsyncIterator[AsyncSession]:
    """One transaction on the database, migrated first; the engine disposed after."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with sessionmaker(engine).begin() as session:
            yield session
    finally:
        await engine.dispose()


async def populate(database_url: str, base_url: str) -> Signer:
    """The two communities and their items; the stranger's key (known, so no fetch)."""
    urls = Urls(base_url)
    now = datetime.now(UTC)
    private_pem, public_pem = signing.new_key_pair()
    async with _transaction(database_url) as session:
        for slug in ("ward", "kept"):
            community = await founding.create_community(
                session, slug=slug, name=slug.title(), members_only=True
            )
            for i in range(ITEMS):
                url = urls.object(slug, f"s{i}")
                session.add(
                    ObjectRow(ap_id=url, community_id=community.id, kind="story", ap_type="Note",
                              local=True, attributed_to=urls.community(slug), title=f"Story {i}",
                              content_html="<p>For members.</p>", source_markdown="For members.",
                              ap_json={"id": url, "type": "Note"},
                              published=now - timedelta(hours=i))
                )  # fmt: skip
            await session.flush()
            if slug == "kept":
                await founding.update_community(
                    session, urls, community, name=community.name, summary="", closed=False,
                    profile_fields=(), now=now, visibility=Visibility.PUBLIC,
                )  # fmt: skip
        session.add(RemoteActorRow(ap_id=STRANGER, inbox=STRANGER + "/inbox", ap_json={}))
        session.add(
            RemoteKeyRow(key_id=STRANGER + "#main-key", owner=STRANGER, public_key_pem=public_pem)
        )
    return Signer(STRANGER + "#main-key", private_pem)


Headers = Callable[[str], dict[str, str]]


async def _get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    async with session.get(url, headers=headers) as response:
        await response.read()
        assert response.status == 404, (url, response.status)
    return (time.perf_counter() - start) * 1000


async def pair(base: str, slug: str, headers: Headers) -> tuple[list[float], list[float]]:
    """(existing, missing): REQUESTS of each, interleaved, the first of each pair taking
    turns; ``headers(url)`` those of each request (signed just before it is timed)."""
    existing: list[float] = []
    missing: list[float] = []
    async with aiohttp.ClientSession() as session:
        for n in range(WARMUP + REQUESTS):
            i = n % ITEMS
            here = f"{base}/c/{slug}/o/s{i}"
            absent = f"{base}/c/{slug}/o/s{i + ITEMS}"  # the same shape, never stored
            order = ((here, existing), (absent, missing))
            for url, into in order if n % 2 == 0 else order[::-1]:
                took = await _get(session, url, headers(url))
                if n >= WARMUP:
                    into.append(took)
    return existing, missing


def q(times: list[float], n: int) -> float:
    return statistics.quantiles(times, n=100)[n - 1]


def report(label: str, existing: list[float], missing: list[float]) -> None:
    for kind, times in (("existing", existing), ("missing", missing)):
        print(
            f"members: {label:24s} {kind:8s} p50 {q(times, 50):6.3f} ms  "
            f"p90 {q(times, 90):6.3f} ms  p99 {q(times, 99):6.3f} ms"
        )
    d50 = (q(existing, 50) - q(missing, 50)) * 1000
    d99 = (q(existing, 99) - q(missing, 99)) * 1000
    print(f"members: {label:24s} existing - missing: p50 {d50:+.0f} us  p99 {d99:+.0f} us")


async def run(base: str, stranger: Signer) -> None:
    await wait_ready(base + "/healthz")

    def unsigned(_url: str) -> dict[str, str]:
        return dict(AS2)

    def signed(url: str) -> dict[str, str]:
        headers = sign_request("GET", url, AS2, None, stranger)
        headers.pop("Host", None)
        return headers

    print(f"members: 404 timing, {REQUESTS} requests each, interleaved, {ITEMS} items")
    for label, slug, headers in (
        ("members-only, unsigned", "ward", unsigned),
        ("members-only, stranger", "ward", signed),
        ("kept items, unsigned", "kept", unsigned),
    ):
        report(label, *await pair(base, slug, headers))


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
    stranger = asyncio.run(populate(database_url, base))
    server = serve(tmp, "copub", port, database_url)
    try:
        asyncio.run(run(base, stranger))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
