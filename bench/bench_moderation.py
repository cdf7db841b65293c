"""Spam wave: a community's hold queue under 1,000 mentions from 100 new actors in a minute.

Two runs in the same invocation, each against a fresh ``copub serve`` process (SQLite) whose
community has one genuine follower (so a relayed post would make a delivery):
*quiet*, actor document GETs of the community at 10/s (open loop), and *wave*, the same GETs
plus ``BENCH_WAVE_POSTS`` signed ``Create``s of public Notes mentioning the community (a
``Mention`` tag, the community in ``cc``) sent to the shared inbox over ``BENCH_WAVE_SECONDS``
by ``BENCH_WAVE_ACTORS`` fresh actors, each on a host of its own (none follows: the default
posting policy holds them all). The wave run's GETs are measured until the inbox is drained.

Reported: p50/p99 of the actor GET in each run and wave/quiet (target: p99 within 2x); the
posts held and relayed once the inbox processor is done with them (read from the database:
held posts by state, Announce activities and their deliveries, posts stored); then one
coordinator action rejecting them all, ``copub held reject-all SLUG``: its time beside the
command's start alone (``copub held --help``) and what is left in the queue (target 0).

The peer (bench_hostile's: fresh RSA keys per actor from one prime pair, actors served on
many 127.0.0.x addresses) runs as a child process. Everything stays on loopback.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))
from bench_hostile import (
    PUBLIC,
    SLUG,
    KeyFamily,
    every,
    follow,
    get,
    peer_process,
    percentile,
    post,
    rss_kib,
    signed_post,
    start_server,
)
from bench_http import free_port, wait_ready

from actors.store.db import create_engine, sessionmaker
from actors.store.models import ActivityRow, DeliveryRow, FollowerRow, InboxItemRow, ObjectRow
from actors.store.models_moderation import HeldPostRow, HoldState
from actors.store.states import FollowerState, InboxState
from federation.keys import Signer

POSTS = int(os.environ.get("BENCH_WAVE_POSTS", "1000"))
ACTORS = int(os.environ.get("BENCH_WAVE_ACTORS", "100"))
SECONDS = float(os.environ.get("BENCH_WAVE_SECONDS", "60"))
WARMUP = float(os.environ.get("BENCH_WAVE_WARMUP", "5"))
FULL = (1000, 100, 60.0)
GET_RATE = 10.0
DRAIN_TIMEOUT = 600.0
POLL = 0.2

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Run:
    name: str
    gets: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rss: list[int] = field(default_factory=list)  # KiB, once a second while measuring
    creates: Counter[str] = field(default_factory=Counter)  # answers to the wave's POSTs
    create_times: list[float] = field(default_factory=list)
    sending: float = 0.0  # seconds from the first Create to the last answer
    drain: float = 0.0  # seconds from the last answer to an empty inbox
    held: dict[str, int] = field(default_factory=dict)  # held posts by state, after the drain
    announces: int = 0
    deliveries: int = 0  # of Announces
    stored: int = 0  # remote posts stored in the community
    followers: int = 0
    reject: tuple[float, int, dict[str, int]] | None = None  # seconds, rejected, after
    cli_start: float = 0.0  # seconds of `copub held --help`: the command's start alone


# --- reading the server's database --------------------------------------------------------


async def counted(sessions: Sessions, statement: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(statement) or 0)


async def by_state(sessions: Sessions, column: Any) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(column, func.count()).group_by(column))
        return {str(state): int(n) for state, n in rows}


async def poll(check: Callable[[], Awaitable[bool]], what: str, timeout: float) -> float:
    """Poll a database fact until it holds; the seconds it took."""
    began = time.perf_counter()
    while not await check():
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(POLL)
    return time.perf_counter() - began


async def accepted_follower(sessions: Sessions) -> bool:
    statement = select(func.count(FollowerRow.id)).where(
        FollowerRow.state == FollowerState.ACCEPTED
    )
    return await counted(sessions, statement) >= 1


async def drained(sessions: Sessions, expected: int) -> bool:
    """Every one of ``expected`` inbox items processed (done, or given up on)."""
    states = await by_state(sessions, InboxItemRow.state)
    return sum(states.values()) >= expected and not states.get(InboxState.PENDING)


async def outcome(run: Run, sessions: Sessions) -> None:
    """What the wave left: holds by state, and anything relayed."""
    run.held = await by_state(sessions, HeldPostRow.state)
    run.announces = await counted(
        sessions, select(func.count(ActivityRow.id)).where(ActivityRow.ap_type == "Announce")
    )
    run.deliveries = await counted(
        sessions,
        select(func.count(DeliveryRow.id))
        .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
        .where(ActivityRow.ap_type == "Announce"),
    )
    run.stored = await counted(
        sessions, select(func.count(ObjectRow.id)).where(ObjectRow.local.is_(False))
    )


# --- the coordinator's one action ----------------------------------------------------------


async def copub(config: Path, *args: str) -> float:
    """Run ``copub *args`` on the server's config; its seconds, start to exit."""
    argv = [sys.executable, "-m", "actors.cli", *args]
    env = {**os.environ, "COPUB_CONFIG": str(config)}
    began = time.perf_counter()
    done = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"copub {' '.join(args)}: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - began


async def reject_everything(run: Run, sessions: Sessions, config: Path) -> None:
    run.cli_start = await copub(config, "held", "--help")
    seconds = await copub(config, "held", "reject-all", SLUG, "--reason", "spam wave")
    after = await by_state(sessions, HeldPostRow.state)
    rejected = after.get(HoldState.REJECTED, 0) - run.held.get(HoldState.REJECTED, 0)
    run.reject = (seconds, rejected, after)


# --- traffic ---------------------------------------------------------------------------------


def mention(base: str, actor_id: str) -> dict[str, Any]:
    """A public Note mentioning the community, in its Create, as Mastodon sends one."""
    community = f"{base}/c/{SLUG}"
    note_id = f"{actor_id}/statuses/{uuid.uuid4().hex}"
    host = base.split("//", 1)[1]
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": actor_id,
        "content": f'<p><a href="{community}">@{SLUG}@{host}</a> cheap pills, click now</p>',
        "to": [PUBLIC],
        "cc": [actor_id + "/followers", community],
        "tag": [{"type": "Mention", "href": community, "name": f"@{SLUG}@{host}"}],
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": note_id + "/activity",
        "type": "Create",
        "actor": actor_id,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


async def traffic(
    run: Run, base: str, sessions: Sessions, family: KeyFamily, hosts: list[str], pid: int
) -> None:
    """GETs (and in the wave run the Creates) after the warm-up; the inbox drained."""
    rng = random.Random(14)
    shared_inbox = f"{base}/inbox"
    stop, sent_all = asyncio.Event(), asyncio.Event()
    measuring = False
    gets: set[asyncio.Task[None]] = set()
    creates: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def timed_get() -> None:
            began = time.perf_counter()
            try:
                status = await get(session, f"{base}/c/{SLUG}")
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.errors[type(exc).__name__] += 1
                return
            if status != 200:
                run.errors[str(status)] += 1
            elif measuring:
                run.gets.append(time.perf_counter() - began)

        def actor_get() -> None:
            task = asyncio.ensure_future(timed_get())
            gets.add(task)
            task.add_done_callback(gets.discard)

        def fresh_actor(host: str) -> tuple[str, Signer]:
            e = family.fresh(rng)
            actor_id = f"http://{host}/users/u{e}"
            return actor_id, family.signer(actor_id + "#main-key", e)

        async def signed(activity: dict[str, Any], signer: Signer) -> int:
            body, headers = signed_post(shared_inbox, activity, signer)
            return await post(session, shared_inbox, body, headers)

        # one genuine follower, on a host none of the wave's actors uses
        follower_id, follower_key = fresh_actor(hosts[-1])
        assert await signed(follow(base, follower_id), follower_key) == 202
        await poll(lambda: accepted_follower(sessions), "the follower accepted", 60)
        run.followers = 1

        loops = [
            asyncio.create_task(every(GET_RATE, stop, actor_get)),
            asyncio.create_task(every(1.0, stop, lambda: run.rss.append(rss_kib(pid)))),
        ]
        await asyncio.sleep(WARMUP)
        measuring = True
        if run.name == "quiet":
            await asyncio.sleep(SECONDS)
        else:
            wave = [fresh_actor(hosts[i]) for i in range(ACTORS)]

            async def one(actor_id: str, signer: Signer) -> None:
                began = time.perf_counter()
                try:
                    run.creates[str(await signed(mention(base, actor_id), signer))] += 1
                    run.create_times.append(time.perf_counter() - began)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    run.creates[type(exc).__name__] += 1

            def create() -> None:
                if len(creates) < POSTS:
                    creates.append(asyncio.create_task(one(*wave[len(creates) % ACTORS])))
                if len(creates) >= POSTS:
                    sent_all.set()

            began = time.perf_counter()
            await every(POSTS / SECONDS, sent_all, create)
            await asyncio.gather(*creates)
            run.sending = time.perf_counter() - began
            expected = 1 + run.creates["202"]  # the Follow and every Create taken
            run.drain = await poll(lambda: drained(sessions, expected), "the inbox", DRAIN_TIMEOUT)
        measuring = False
        stop.set()
        await asyncio.gather(*loops)
        if gets:
            await asyncio.wait(gets, timeout=30)


async def measure(
    run: Run, tmp: Path, base: str, hosts: list[str], family: KeyFamily, pid: int
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
    sessions = sessionmaker(engine)
    try:
        await wait_ready(f"{base}/c/{SLUG}")
        await traffic(run, base, sessions, family, hosts, pid)
        await outcome(run, sessions)
        if run.name == "wave":
            await reject_everything(run, sessions, tmp / "config.toml")
    finally:
        await engine.dispose()


def one_run(name: str, hosts: list[str], family: KeyFamily) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-moderation-{name}-"))
    port = free_port()
    server = start_server(tmp, port)
    run = Run(name)
    try:
        asyncio.run(measure(run, tmp, f"http://127.0.0.1:{port}", hosts, family, server.pid))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    return run


# --- the report -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(quiet: Run, wave: Run) -> None:
    short = "" if (POSTS, ACTORS, SECONDS) == FULL else "  SHORT RUN (not the standard's wave)"
    print(
        f"moderation wave: {POSTS} Creates mentioning the community from {ACTORS} new actors"
        f" on {ACTORS} hosts over {SECONDS:.0f} s; actor GETs at {GET_RATE:.0f}/s{short}"
    )
    for run in (quiet, wave):
        rss = f"RSS {run.rss[0] / 1024:.1f} -> {run.rss[-1] / 1024:.1f} MB" if run.rss else ""
        line = (
            f"moderation wave: {run.name:6s} actor GET p50 {percentile(run.gets, 0.5):6.1f}"
            f" p99 {percentile(run.gets, 0.99):7.1f} ms ({len(run.gets)} GETs; {rss})"
        )
        if run is quiet:
            line += "  (floor)"
        else:
            p50 = percentile(wave.gets, 0.5) / percentile(quiet.gets, 0.5)
            p99 = percentile(wave.gets, 0.99) / percentile(quiet.gets, 0.99)
            line += f"  wave/quiet p50 {p50:.2f}x p99 {p99:.2f}x (target <= 2x) {verdict(p99 <= 2)}"
        print(line)
        if run.errors:
            print(f"moderation wave: {run.name:6s} actor GETs failed: {dict(run.errors)}")
    answers = " ".join(f"{n}x{status}" for status, n in sorted(wave.creates.items()))
    print(f"moderation wave: Create p50 {percentile(wave.create_times, 0.5):6.1f}"
          f" p99 {percentile(wave.create_times, 0.99):7.1f} ms ({answers}), sent in"
          f" {wave.sending:.1f} s; inbox drained {wave.drain:.1f} s after the last")  # fmt: skip
    held = wave.held.get(HoldState.HELD, 0)
    relayed = wave.announces + wave.deliveries + wave.stored
    states = ", ".join(f"{state} {n}" for state, n in sorted(wave.held.items()))
    print(f"moderation wave: held {held} of {POSTS} ({states}); relayed {relayed}"
          f" (Announce activities {wave.announces}, their deliveries {wave.deliveries},"
          f" remote posts stored {wave.stored}; {wave.followers} follower)"
          f" {verdict(held == POSTS and relayed == 0)}")  # fmt: skip
    if wave.reject is not None:
        seconds, rejected, after = wave.reject
        left = after.get(HoldState.HELD, 0)
        start = f"(the command's start alone, copub held --help: {wave.cli_start:.2f} s)"
        print(f"moderation wave: one action (copub held reject-all {SLUG}): {rejected} rejected"
              f" in {seconds:.2f} s {start},"
              f" {left} left in the queue {verdict(left == 0 and rejected == held)}")  # fmt: skip


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-moderation-"))
    with peer_process(tmp, hosts=ACTORS + 1) as (_, family, peers):
        quiet = one_run("quiet", peers["hosts"], family)
        wave = one_run("wave", peers["hosts"], family)
    report(quiet, wave)


if __name__ == "__main__":
    main()
