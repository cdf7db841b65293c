"""A fleet on one real PostgreSQL: two web processes (``copub serve``) and two delivery
workers (``copub worker``). A story fans out to 2,000 servers (one sink process listening on
2,000 loopback ports, each a distinct host) while the worker holding the retention singleton
is SIGKILLed and a new one started; Follows arrive through both web processes meanwhile.

What at-least-once delivery can promise after a SIGKILL is checked exactly:

- every server gets the story; a server gets it twice only if its job was leased by the
  killed worker and not yet recorded as done (the POST may have landed just before the
  kill; no sender can know), and never more than twice;
- the killed worker's leases are taken back (by the new worker at its start, or by the
  other within seconds), not left until they expire (five minutes: beyond the deadlines);
- each Follow, sent to both web processes, is stored once and applied once: one follower
  row, one Accept;
- the singletons (retention in the workers, the Discourse poller in the web processes)
  have one holder in every sample of ``pg_locks``, but for the few seconds after the kill
  before another worker takes retention over.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from actors import retention
from actors.store import queries
from actors.store.db import create_engine, sessionmaker
from actors.store.holders import holder_is_dead
from actors.store.models import ActivityRow, DeliveryRow, FollowerRow, InboxItemRow
from actors.store.states import PENDING_JOBS
from adapters.discourse.adapter import POLLER
from tests.factories import write_toml
from tests.flows import mastodon
from tests.flows.copub import config_dict, run_cli, wait_until
from tests.flows.fleet import FanoutSink, SingletonWatch, pid_of_client
from tests.flows.process import ROOT, CopubProcess
from tests.flows.remote import Person, RemoteServer
from tests.pg import PostgresServer, free_port

pytestmark = pytest.mark.postgres

SERVERS = 2000
ANSWER_SECONDS = 0.05  # each server's answer: 16 at once per worker, at most 320/s
KILL_AFTER = 300  # deliveries the sink has seen when the worker is killed
FOLLOWS = 6  # Follows in each of two batches, each POSTed to both web processes
TIMEOUT = 60
TAKEOVER_SECONDS = 10  # run_singleton contends every 5 s
SINGLETONS = (retention.SINGLETON, POLLER)


@pytest.fixture
def fleet_db(pg_server: PostgresServer, pg_template: str) -> Iterator[str]:
    name = pg_server.create_database(template=pg_template)
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
async def sink() -> AsyncIterator[FanoutSink]:
    async with FanoutSink(SERVERS, delay=ANSWER_SECONDS, timeout=TIMEOUT) as started:
        yield started


def fleet_config(url: str, web_port: int) -> dict[str, Any]:
    """Web processes that deliver nothing themselves; a Discourse forum (on a port where
    nothing listens) so that its poller's singleton is contended by the web processes."""
    raw = config_dict(
        url,
        web_port,
        delivery={"in_process_worker": False, "concurrency": 16},
    )
    raw["adapters"] = ["adapters.discourse"]
    raw["discourse"] = [
        {
            "community": "nightshift",
            "base_url": f"http://127.0.0.1:{free_port()}",
            "api_key": "k" * 64,
            "api_username": "copub-bot",
            "category": "5",
            "webhook_secret": "a-long-enough-secret",
            "poll_interval_seconds": 3600,
        }
    ]
    return raw


class Db:
    """Reads of the fleet's database from the test."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = sessionmaker(self.engine)

    async def scalar(self, statement: Any) -> Any:
        async with self.sessions() as session:
            return await session.scalar(statement)

    async def all(self, statement: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(statement)).all())

    async def add_followers(self, ports: list[int]) -> None:
        """One follower on each sink server (its shared inbox), written straight to the table."""
        async with self.sessions.begin() as session:
            community = await queries.get_community(session, "nightshift")
            assert community is not None
            rows = [
                {
                    "community_id": community.id,
                    "actor_id": f"http://127.0.0.1:{port}/users/u",
                    "inbox": f"http://127.0.0.1:{port}/users/u/inbox",
                    "shared_inbox": f"http://127.0.0.1:{port}/inbox",
                    "state": "accepted",
                    "follow_activity_id": f"http://127.0.0.1:{port}/follows/1",
                }
                for port in ports
            ]
            await session.execute(insert(FollowerRow), rows)

    async def undelivered(self) -> int:
        query = select(func.count()).select_from(DeliveryRow).where(DeliveryRow.state != "done")
        return int(await self.scalar(query))

    async def orphaned_ports(self) -> set[int]:
        """Ports of the jobs leased by processes that are gone (and not done)."""
        rows = await self.all(
            select(DeliveryRow.host).where(
                DeliveryRow.state.in_(PENDING_JOBS),
                DeliveryRow.locked_until.is_not(None),
                DeliveryRow.locked_by.is_not(None),
                holder_is_dead(DeliveryRow.locked_by),
            )
        )
        return {int(host.rsplit(":", 1)[1]) for (host,) in rows}


async def copub_command(config: Path, *args: str) -> None:
    """``copub --config FILE *args`` as a process of its own (in a thread of this one, its
    imports would hold up the sampling of ``pg_locks``)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "actors.cli", "--config", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode(errors="replace")


async def follow_through_both(
    remote: RemoteServer, people: list[Person], inboxes: list[str], actor: str
) -> list[dict[str, Any]]:
    """Each person's Follow, the same activity POSTed to every web process at once."""
    follows = [mastodon.follow(person, actor) for person in people]
    answers = await asyncio.gather(
        *(
            remote.post(person, inbox, follow)
            for person, follow in zip(people, follows, strict=True)
            for inbox in inboxes
        )
    )
    assert [status for status, _ in answers] == [202] * len(answers), answers
    return follows


async def test_fleet_fans_out_through_a_killed_worker(
    pg_server: PostgresServer, fleet_db: str, sink: FanoutSink, remote: RemoteServer, tmp_path: Path
) -> None:
    url = pg_server.url_for(fleet_db)
    db = Db(url)
    ports = [free_port(), free_port()]
    config = write_toml(tmp_path / "copub.toml", fleet_config(url, ports[0]))
    await run_cli(config, "community", "create", "nightshift", "--name", "Night Shift")
    await db.add_followers(sink.ports)
    webs = [
        CopubProcess(
            config,
            f"http://127.0.0.1:{port}",
            tmp_path / f"web{n}.log",
            args=("serve", "--port", str(port)),
        )
        for n, port in enumerate(ports, 1)
    ]
    workers = [
        CopubProcess(
            config, "", tmp_path / f"worker{n}.log", args=("worker",), ready_text="delivering ("
        )
        for n in (1, 2, 3)
    ]
    actor = webs[0].base_url + "/c/nightshift"
    inboxes = [web.base_url + "/c/nightshift/inbox" for web in webs]
    first = [remote.person(f"early{i}") for i in range(FOLLOWS)]
    later = [remote.person(f"late{i}") for i in range(FOLLOWS)]
    for person in [*first, *later]:
        assert person.signer.private_key_pem  # their keys made now, not while sampling
    watch = SingletonWatch(pg_server.url_for(fleet_db, driver="postgresql"), SINGLETONS)
    try:
        async with watch.running():
            started = time.monotonic()
            await asyncio.gather(*(p.start(timeout=TIMEOUT) for p in [*webs, *workers[:2]]))
            # Given a fleet whose singletons each have their holder
            holders = {name: await watch.until(name, TIMEOUT) for name in SINGLETONS}
            settled = time.monotonic()
            [port] = holders[retention.SINGLETON].holders[retention.SINGLETON]
            victim_pid = pid_of_client(port, [w.pid for w in workers[:2]])
            assert victim_pid is not None, "a worker holds retention"
            victim = next(w for w in workers[:2] if w.pid == victim_pid)

            # When a story goes out to 2,000 servers while Follows arrive through both webs
            await copub_command(config, "publish", "nightshift", "story", "--title", "Fleet",
                                "--content", "To two thousand servers.")  # fmt: skip
            sending = asyncio.create_task(follow_through_both(remote, first, inboxes, actor))
            # And the worker holding retention is SIGKILLed in the middle of it
            await sink.wait(KILL_AFTER)
            victim.kill()
            killed = time.monotonic()
            at_kill, _total = await sink.wait(0)
            assert at_kill < SERVERS, "killed in the middle of the fan-out"
            orphaned = await db.orphaned_ports()
            assert orphaned, "the killed worker held leases"
            follows = await sending
            # And more Follows arrive, and a new worker is started
            follows += await follow_through_both(remote, later, inboxes, actor)
            await workers[2].start(timeout=TIMEOUT)

            # Then another worker takes retention over within seconds
            takeover = await watch.until(retention.SINGLETON, TIMEOUT, not_port=port)
            assert takeover.at - killed < TAKEOVER_SECONDS
            live = [w.pid for w in workers if w is not victim]
            assert pid_of_client(takeover.holders[retention.SINGLETON][0], live) is not None
            # And the killed one's leases were taken back (by the new worker as it started,
            # or by the other as it looks every 10 s), not left to expire
            took_back = "deliveries leased by a process that is gone"
            logs = [w.log_file.read_text(errors="replace") for w in workers if w is not victim]
            assert any(took_back in log for log in logs)
            # And every server gets the story
            await sink.wait(SERVERS)
            await wait_until(lambda: _all_delivered(db), TIMEOUT, "every delivery recorded as done")
            distinct, total = await sink.wait(SERVERS)  # all done: no more will come
            assert distinct == SERVERS
            # And every Follow is accepted
            everyone = first + later
            await remote.wait_for(
                lambda got: (
                    {d.activity["object"]["id"] for d in got if d.type == "Accept"}
                    >= {f["id"] for f in follows}
                ),
                timeout=TIMEOUT,
            )
            ended = time.monotonic()
    finally:
        for process in [*webs, *workers]:
            process.stop()
        await db.engine.dispose()

    # Duplicates only where the killed worker's job may have landed: at most twice
    duplicates = await sink.duplicates()
    assert set(duplicates) <= orphaned, (duplicates, orphaned)
    assert all(n == 2 for n in duplicates.values()), duplicates
    assert total == SERVERS + sum(n - 1 for n in duplicates.values())
    print(
        f"\nfleet: {SERVERS} servers, killed after {at_kill}; {len(orphaned)} jobs orphaned, "
        f"{len(duplicates)} delivered twice; retention taken over in "
        f"{takeover.at - killed:.1f} s; {ended - started:.1f} s in all"
    )

    # Each Follow stored once (sent to both web processes) and applied once
    db = Db(url)
    try:
        for follow in follows:
            items = select(InboxItemRow.state).where(InboxItemRow.activity_id == follow["id"])
            assert [s for (s,) in await db.all(items)] == ["done"], follow["id"]
        accepts = await db.all(select(ActivityRow.ap_json).where(ActivityRow.ap_type == "Accept"))
        accepted = sorted(ap["object"]["id"] for (ap,) in accepts)
        assert accepted == sorted(f["id"] for f in follows), "one Accept per Follow"
        actor_ids = [p.id for p in everyone]
        rows = await db.all(select(FollowerRow.state).where(FollowerRow.actor_id.in_(actor_ids)))
        assert [s for (s,) in rows] == ["accepted"] * len(everyone)
    finally:
        await db.engine.dispose()

    # And the singletons had one holder in every sample, but after the kill until taken over
    during = [s for s in watch.samples if settled <= s.at <= ended]
    times = [settled, *(s.at for s in during), ended]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < 1, f"sampled all along: {gaps}"
    for sample in during:
        assert sample.count(POLLER) == 1, sample
        if killed <= sample.at < takeover.at:  # the killed one's, or nobody's
            assert sample.count(retention.SINGLETON) <= 1, sample
        else:
            assert sample.count(retention.SINGLETON) == 1, sample


async def _all_delivered(db: Db) -> bool:
    return await db.undelivered() == 0
