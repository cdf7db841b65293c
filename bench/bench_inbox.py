"""Inbox under a realistic mix: acceptance (signed POST -> 202) and application, each beside
two floors measured in the same run.

``BENCH_INBOX_REQUESTS`` (5,000) signed activities from ``BENCH_INBOX_ACTORS`` (1,000) remote
actors on 20 loopback hosts, with cold keys: every actor has a key of its own that copub has
never seen, served by a peer process (bench_hostile's), so each actor's first request fetches
its key. The mix: 60 % Create of a public Note mentioning the community (a Mention tag, the
community in ``cc``; a third of them replies to items the community holds) from its
followers, so each is filed and relayed; 20 % Like and 10 % Announce of items the community
holds; 10 % Follow and its Undo from actors who do not follow yet. Sent to the community's
inbox by 16 keep-alive connections.

The community is seeded first: 750 accepted followers (on 20 hosts: 20 shared inboxes), 500
items of theirs. The delivery worker is off (``[delivery] in_process_worker = false``): the
deliveries a relay makes are queued rows, the effect measured; sending them is another
bench's (bench_fanout).

Three servers on core 0, one after the other, the client and the peer on core 1:
- floor: a bare aiohttp POST -> 202 on uvloop (copub's event loop);
- signature floor: the same plus the signature check (federation.httpsig, keys fetched
  from the peer on first sight and cached in memory);
- copub serve on SQLite.
Reported: acceptance (requests/s, p50/p99) for each, and copub's application: applied
activities/s from the first request until the inbox queue is drained (every item done, its
effects committed with it), with what the database holds then. Targets: applied >= 800/s,
acceptance >= 0.5x the signature floor, p99 < 50 ms.

Roles: no argument, the benchmark; ``floor MODE PORT`` (``bare`` or ``signed``).
``BENCH_PROFILE=/tmp/inbox.prof`` runs copub under cProfile (written on SIGINT).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
from bench_hostile import PUBLIC, KeyFamily, peer_process, signed_post
from bench_http import free_port, wait_ready

from federation.keys import Signer

TOTAL = int(os.environ.get("BENCH_INBOX_REQUESTS", "5000"))
ACTORS = int(os.environ.get("BENCH_INBOX_ACTORS", "1000"))
HOSTS = 20
SEEDED_ITEMS = 500
CONCURRENCY = 16
SLUG = "bench"
INBOX_PATH = f"/c/{SLUG}/inbox"
AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
DRAIN_TIMEOUT = 900.0
PROFILE = (
    ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if "BENCH_PROFILE" in os.environ else []
)
TEXT = (
    "<p>Handover notes from the night shift: we tried the new checklist for medication "
    "rounds and it caught two mismatches before they reached a patient. Has anyone here "
    "used it on a ward with agency staff?</p>"
)


# --- the mix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    id: str
    host: str
    signer: Signer


def make_actors(family: KeyFamily, hosts: list[str], rng: random.Random) -> list[Actor]:
    actors = []
    for i in range(ACTORS):
        host = hosts[i % len(hosts)]
        e = family.fresh(rng)
        actor_id = f"http://{host}/users/u{e}"
        actors.append(Actor(actor_id, host, family.signer(actor_id + "#main-key", e)))
    return actors


def seeded_items(posters: list[Actor]) -> list[tuple[str, dict[str, Any]]]:
    """(author, object) of the items the community holds before the run."""
    items = []
    for k in range(SEEDED_ITEMS):
        author = posters[k % len(posters)].id
        items.append(
            (
                author,
                {
                    "id": f"{author}/statuses/seed-{k}",
                    "type": "Note",
                    "attributedTo": author,
                    "content": TEXT,
                    "to": [PUBLIC],
                    "published": "2026-01-05T10:00:00Z",
                },
            )
        )
    return items


def create(base: str, actor: Actor, n: int, reply_to: str | None) -> dict[str, Any]:
    community = f"{base}/c/{SLUG}"
    note_id = f"{actor.id}/statuses/{n}"
    note: dict[str, Any] = {
        "id": note_id,
        "type": "Note",
        "attributedTo": actor.id,
        "content": TEXT,
        "to": [PUBLIC],
        "cc": [community],
        "tag": [{"type": "Mention", "href": community, "name": f"@{SLUG}@127.0.0.1"}],
        "published": "2026-01-05T12:00:00Z",
    }
    if reply_to is not None:
        note["inReplyTo"] = reply_to
    return {"@context": AS2_CONTEXT, "id": note_id + "/activity", "type": "Create",
            "actor": actor.id, "to": note["to"], "cc": note["cc"], "object": note}  # fmt: skip


def simple(actor: Actor, kind: str, n: int, obj: Any) -> dict[str, Any]:
    return {"@context": AS2_CONTEXT, "id": f"{actor.id}/{kind.lower()}s/{n}", "type": kind,
            "actor": actor.id, "object": obj}  # fmt: skip


def build_mix(
    base: str, actors: list[Actor], items: list[str], rng: random.Random
) -> list[tuple[str, bytes, dict[str, str]]]:
    """The signed requests, in sending order: (kind, body, headers). Every actor sends at
    least one; a Follow goes out long before its Undo."""
    inbox = f"{base}{INBOX_PATH}"
    posters, joiners = actors[: len(actors) * 3 // 4], actors[len(actors) * 3 // 4 :]
    kinds = ["Create"] * (TOTAL * 6 // 10) + ["Like"] * (TOTAL * 2 // 10)
    kinds += ["Announce"] * (TOTAL // 10)
    kinds += ["FollowUndo"] * (TOTAL - len(kinds))
    rng.shuffle(kinds)
    follows = [i for i, kind in enumerate(kinds) if kind == "FollowUndo"]
    half = len(follows) // 2
    following = [joiners[j % len(joiners)] for j in range(half)]
    by_slot: dict[int, tuple[str, Actor, dict[str, Any]]] = {}
    for j, slot in enumerate(follows[:half]):
        by_slot[slot] = (
            "Follow",
            following[j],
            simple(following[j], "Follow", j, f"{base}/c/{SLUG}"),
        )
    for j, slot in enumerate(follows[half:]):
        actor = following[j % len(following)]
        follow = by_slot[follows[j % half]][2]
        by_slot[slot] = ("Undo", actor, simple(actor, "Undo", j, follow))
    unused = iter(posters)  # each poster's first request is one of the first
    requests = []
    for i, kind in enumerate(kinds):
        if i in by_slot:
            kind, actor, activity = by_slot[i]
        else:
            actor = next(unused, None) or rng.choice(posters)
            if kind == "Create":
                reply = rng.choice(items) if rng.random() < 1 / 3 else None
                activity = create(base, actor, i, reply)
            else:
                activity = simple(actor, kind, i, rng.choice(items))
        body, headers = signed_post(inbox, activity, actor.signer)
        requests.append((kind, body, headers))
    return requests


# --- the floors -----------------------------------------------------------------------------


def floor_server(mode: str, port: int) -> None:
    """A bare aiohttp inbox (``bare``), or one that checks the signature (``signed``), on
    uvloop like copub serve."""
    import uvloop

    from federation.httpsig import CachingKeyResolver, InMemoryKeyCache, verify_aiohttp_request

    async def main() -> None:
        client = aiohttp.ClientSession()

        async def fetch(url: str) -> Any:
            async with client.get(url, headers={"Accept": "application/activity+json"}) as r:
                return await r.json(content_type=None)

        resolver = CachingKeyResolver(InMemoryKeyCache(), fetch)

        async def inbox(request: web.Request) -> web.Response:
            body = await request.read()
            if mode == "signed":
                await verify_aiohttp_request(request, body, resolver, scheme="http")
            return web.json_response({"accepted": True}, status=202)

        app = web.Application()
        app.router.add_post(INBOX_PATH, inbox)
        app.router.add_get("/", lambda _r: web.Response(text="ok"))  # type: ignore[arg-type,return-value]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    uvloop.run(main())


# --- the client -----------------------------------------------------------------------------


@dataclass
class Blast:
    rate: float
    p50: float
    p99: float
    began: float
    statuses: Counter[int]


async def blast(url: str, requests: list[tuple[str, bytes, dict[str, str]]]) -> Blast:
    """POST every request with CONCURRENCY keep-alive connections."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for _kind, body, headers in queue:
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    return Blast(len(requests) / elapsed, statistics.median(latencies) * 1000, p99, began, statuses)


def run_floor(mode: str, requests: list[tuple[str, bytes, dict[str, str]]]) -> Blast:
    port = free_port()
    floor = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, __file__, "floor", mode, str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        asyncio.run(wait_ready(f"http://127.0.0.1:{port}/"))
        return asyncio.run(blast(f"http://127.0.0.1:{port}{INBOX_PATH}", requests))
    finally:
        floor.terminate()
        floor.wait(10)


# --- copub ----------------------------------------------------------------------------------


async def seed(database_url: str, posters: list[Actor], hosts: list[str]) -> list[str]:
    """Migrate; the community, its followers (the posters) and the items they posted
    before; returns the items' ids."""
    from actors import founding
    from actors.inbound.filing import FilingRules, filed_item
    from actors.items import store_item
    from actors.store.db import create_engine, migrate, sessionmaker
    from actors.store.models import FollowerRow

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with sessionmaker(engine).begin() as session:
            community = await founding.create_community(session, slug=SLUG, name="Bench")
            rows = [
                {
                    "community_id": community.id,
                    "actor_id": actor.id,
                    "inbox": actor.id + "/inbox",
                    "shared_inbox": f"http://{actor.host}/inbox",
                    "state": "accepted",
                    "follow_activity_id": actor.id + "/follows/seed",
                }
                for actor in posters
            ]
            await session.execute(FollowerRow.__table__.insert(), rows)
            ids = []
            for author, obj in seeded_items(posters):
                item, first = filed_item(community, obj, author, None, FilingRules())
                await store_item(session, item, send=None, revision=first)
                ids.append(obj["id"])
        return ids
    finally:
        await engine.dispose()


COUNTS = {
    "items": "SELECT count(*) FROM objects",
    "activities": "SELECT count(*) FROM activities",
    "deliveries": "SELECT count(*) FROM deliveries",
    "followers": "SELECT count(*) FROM followers WHERE state = 'accepted'",
}
DONE = "SELECT count(*) FROM inbox_items WHERE state != 'pending'"


async def one(database: str, sql: str) -> int:
    """One number from the database: a SQLite file's path, or a PostgreSQL DSN."""
    if database.startswith("postgresql"):
        import asyncpg

        connection = await asyncpg.connect(database)
        try:
            return int(await connection.fetchval(sql))
        finally:
            await connection.close()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute(sql).fetchone()[0])


async def db_counts(database: str) -> dict[str, int]:
    counts = {"inbox done": await one(database, DONE)}
    for name, sql in COUNTS.items():
        counts[name] = await one(database, sql)
    return counts


async def until_drained(database: str, began: float) -> float:
    """Seconds from ``began`` until every inbox item is done or failed."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT
    while time.perf_counter() < deadline:
        if await one(database, DONE) >= TOTAL:
            return time.perf_counter() - began
        await asyncio.sleep(0.02)
    raise RuntimeError(f"the inbox was not drained in {DRAIN_TIMEOUT:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` and its children (a fleet) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def run_copub(
    tmp: Path,
    port: int,
    requests: list[tuple[str, bytes, dict[str, str]]],
    database_url: str,
    workers: int = 1,
) -> tuple[Blast, float, float, dict[str, int]]:
    """copub serve on ``database_url`` (SQLite: one process on core 0; PostgreSQL:
    ``workers`` processes, not pinned), the requests sent, the inbox drained."""
    base = f"http://127.0.0.1:{port}"
    sqlite_path = database_url.removeprefix("sqlite+aiosqlite:///")
    database = sqlite_path if sqlite_path != database_url else database_url.replace("+asyncpg", "")
    config = tmp / f"config-{workers}.toml"
    config.write_text(
        f'[server]\nbase_url = "{base}"\nport = {port}\n'
        f'[database]\nurl = "{database_url}"\n'
        "[federation]\nallow_private_addresses = true\n"
        "[delivery]\nin_process_worker = false\n" + os.environ.get("BENCH_INBOX_EXTRA", "")
    )
    pin = ["taskset", "-c", "0"] if workers == 1 else []
    fleet = ["--workers", str(workers)] if workers > 1 else []
    server = subprocess.Popen(
        [*pin, sys.executable, *PROFILE, "-m", "actors.cli", "serve", *fleet],
        env={**os.environ, "COPUB_CONFIG": str(config)},
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"server-{workers}.log", "wb"),  # noqa: SIM115 (the child owns it)
    )
    try:

        async def measured() -> tuple[Blast, float, float]:
            await wait_ready(f"{base}/c/{SLUG}")
            cpu = cpu_seconds(server.pid)
            accepted = await blast(f"{base}{INBOX_PATH}", requests)
            drained = await until_drained(database, accepted.began)
            return accepted, drained, cpu_seconds(server.pid) - cpu

        accepted, drained, cpu = asyncio.run(measured())
        return accepted, drained, cpu, asyncio.run(db_counts(database))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def report(floor: Blast, signed: Blast, mix: Counter[str]) -> None:
    kinds = ", ".join(f"{k} {n}" for k, n in mix.items())
    print(f"inbox mix: {TOTAL} signed activities from {ACTORS} actors with cold keys on {HOSTS} "
          f"hosts, concurrency {CONCURRENCY}: {kinds}")  # fmt: skip
    for name, b in (("bare aiohttp POST -> 202 (floor)", floor),
                    ("the same + signature check (floor)", signed)):  # fmt: skip
        odd = "" if set(b.statuses) == {202} else f" (statuses {dict(b.statuses)})"
        print(
            f"inbox: {name:36s} {b.rate:7.0f} req/s, p50 {b.p50:5.1f} ms, p99 {b.p99:5.1f} ms{odd}"
        )


def report_copub(name: str, floor: Blast, signed: Blast, copub: Blast, drained: float,
                 cpu: float, counts: dict[str, int]) -> None:  # fmt: skip
    applied = TOTAL / drained
    print(
        f"inbox, {name}: copub accepted {copub.rate:7.0f} req/s, p50 {copub.p50:5.1f} ms, p99 "
        f"{copub.p99:5.1f} ms (target < 50); {copub.rate / signed.rate:.2f}x the signature "
        f"floor (target >= 0.5), {copub.rate / floor.rate:.2f}x the bare floor; statuses "
        + ", ".join(f"{s}: {n}" for s, n in sorted(copub.statuses.items()))
    )
    print(
        f"inbox, {name}: copub applied {applied:7.0f} activities/s end to end (target >= 800): "
        f"all {TOTAL} done {drained:.2f} s after the first request, {cpu:.1f} s of CPU in the "
        f"copub processes (accepting them too): {TOTAL / cpu:.0f} per CPU-second; the "
        "database then: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    )


def main() -> None:
    if sys.argv[1:2] == ["floor"]:
        floor_server(sys.argv[2], int(sys.argv[3]))
        return
    os.sched_setaffinity(0, {1})  # the client and the peer; the servers run on core 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(16)
    with peer_process(tmp, HOSTS) as (_keyfile, family, peers):
        actors = make_actors(family, peers["hosts"], rng)
        posters = actors[: len(actors) * 3 // 4]
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        items = asyncio.run(seed(sqlite_url, posters, peers["hosts"]))
        requests = build_mix(base, actors, items, rng)
        floor = run_floor("bare", requests)
        signed = run_floor("signed", requests)
        report(floor, signed, Counter(kind for kind, _, _ in requests))
        report_copub(
            "SQLite, 1 process", floor, signed, *run_copub(tmp, port, requests, sqlite_url)
        )
        if os.environ.get("BENCH_INBOX_PG", "1") != "0":
            on_postgresql(tmp, port, requests, posters, peers["hosts"], floor, signed)


def on_postgresql(
    tmp: Path,
    port: int,
    requests: list[tuple[str, bytes, dict[str, str]]],
    posters: list[Actor],
    hosts: list[str],
    floor: Blast,
    signed: Blast,
) -> None:
    """The same run on a throwaway PostgreSQL cluster (tests/pg.py), two copub serve
    processes (``--workers 2``, not pinned); skipped when PostgreSQL cannot be started."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pg import PostgresUnavailable, start_cluster

    try:
        pg = start_cluster()
    except PostgresUnavailable as exc:
        print(f"inbox, PostgreSQL: skipped: {exc}")
        return
    try:
        url = pg.url_for(pg.create_database("copub_inbox"))
        asyncio.run(seed(url, posters, hosts))
        result = run_copub(tmp, port, requests, url, workers=2)
        report_copub("PostgreSQL, 2 processes", floor, signed, *result)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
