"""SIGKILL loses nothing: not a fan-out in progress, not an accepted Follow; and
what the killed process was doing is taken up within seconds of the restart, not when its
lease would have run out.

copub runs as a real process (``python -m actors.cli serve``) on a SQLite file (or on
PostgreSQL); followers live on slow sink servers in the test process, so the fan-out is
still going on when the process is killed. Duplicates after the restart are allowed; losses
are not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from actors.store import queries
from actors.store.db import create_engine, sessionmaker
from actors.store.models import DeliveryRow, FollowerRow, InboxItemRow, ObjectRow
from tests.factories import write_toml
from tests.flows import mastodon
from tests.flows.copub import config_dict, run_cli, wait_until
from tests.flows.process import CopubProcess
from tests.flows.remote import Delivery, Person, RemoteServer
from tests.flows.test_follow import accepted_follow
from tests.pg import free_port

SINKS = 3
PER_SINK = 100  # 300 followers, each with an inbox of its own (no shared inbox)
TIMEOUT = 60


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Any]:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path}/copub.sqlite3"
    # Slow deliveries: 12 at a time to sinks that take 0.2 s each. Leases as configured by
    # default (minutes): what the killed process held is taken back when the new one starts.
    raw = config_dict(
        url,
        port,
        federation={"delivery_timeout_seconds": 2.0},
        delivery={"concurrency": 12, "per_host_concurrency": 4, "poll_interval_seconds": 0.2},
    )
    return {"url": url, "raw": raw, "base_url": f"http://127.0.0.1:{port}", "tmp": tmp_path}


@pytest.fixture
async def server(setup: dict[str, Any]) -> AsyncIterator[CopubProcess]:
    config = write_toml(setup["tmp"] / "copub.toml", setup["raw"])
    await run_cli(config, "migrate")  # a new database: commands other than serve only check
    await run_cli(config, "community", "create", "nightshift", "--name", "Night Shift")
    proc = CopubProcess(config, setup["base_url"], setup["tmp"] / "copub.log")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def sinks() -> AsyncIterator[list[RemoteServer]]:
    servers = [RemoteServer(delay=0.2) for _ in range(SINKS)]
    try:
        for sink in servers:
            await sink.start()
        yield servers
    finally:
        for sink in servers:
            await sink.close()


async def add_followers(url: str, people: list[Person]) -> None:
    """Given: 300 accepted followers (as if each had followed), written straight to the DB."""
    engine = create_engine(url)
    try:
        async with sessionmaker(engine).begin() as session:
            community = await queries.get_community(session, "nightshift")
            assert community is not None
            session.add_all(
                FollowerRow(
                    community_id=community.id,
                    actor_id=p.id,
                    inbox=p.inbox,
                    state="accepted",
                    follow_activity_id=p.id + "#follow",
                )
                for p in people
            )
    finally:
        await engine.dispose()


async def scalar(url: str, statement: Any) -> Any:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return await session.scalar(statement)
    finally:
        await engine.dispose()


def creates(got: list[Delivery]) -> list[Delivery]:
    return [d for d in got if d.ok and d.type == "Create"]


async def test_sigkill_during_fan_out_loses_no_delivery(
    setup: dict[str, Any], server: CopubProcess, sinks: list[RemoteServer]
) -> None:
    # Given 300 followers, each with its own inbox, on three slow servers
    people = [s.person(f"p{i:03d}", shared_inbox=False) for i in range(PER_SINK) for s in sinks]
    await add_followers(setup["url"], people)
    await server.start()
    # When the coordinator publishes a story
    await run_cli(server.config_file, "publish", "nightshift", "story", "--title", "Fan-out",
                  "--content", "To all 300.")  # fmt: skip
    # And copub is SIGKILLed once some, but not all, deliveries arrived
    await sinks[0].wait_for(lambda got: len(creates(got)) >= 10, timeout=TIMEOUT)
    server.kill()
    before = sum(len({d.path for d in creates(s.received)}) for s in sinks)
    assert 10 <= before < len(people), f"{before} inboxes had it at the kill"
    # Then after a restart every inbox gets the Create
    await server.start()
    for sink in sinks:
        await sink.wait_for(
            lambda got: len({d.path for d in creates(got)}) == PER_SINK, timeout=TIMEOUT
        )
    # And exactly once after dedupe by activity id: the one Create, at every inbox
    arrived = [(n, d) for n, sink in enumerate(sinks) for d in creates(sink.received)]
    assert len({d.activity["id"] for _n, d in arrived}) == 1
    assert len({(n, d.path) for n, d in arrived}) == len(people)
    assert all(d.signer == setup["base_url"] + "/c/nightshift" for _n, d in arrived)
    # And every job ends as done (duplicates, if any, came from jobs cut off mid-request)
    not_done = select(func.count()).select_from(DeliveryRow).where(DeliveryRow.state != "done")
    await wait_until(
        lambda: _is_zero(setup["url"], not_done), TIMEOUT, "every delivery recorded as done"
    )


async def _is_zero(url: str, statement: Any) -> bool:
    return await scalar(url, statement) == 0


async def test_sigkill_after_202_still_accepts_the_follow(
    setup: dict[str, Any], server: CopubProcess, remote: RemoteServer
) -> None:
    # Given copub started with the inbox processor switched off ([inbox] in_process = false)
    write_toml(server.config_file, {**setup["raw"], "inbox": {"in_process": False}})
    await server.start()
    alice = remote.person("alice")
    actor = setup["base_url"] + "/c/nightshift"
    # When alice's Follow is accepted with 202 and copub is SIGKILLed before applying it
    follow = await remote.send_follow(alice, actor + "/inbox", actor)
    server.kill()
    state = select(InboxItemRow.state).where(InboxItemRow.activity_id == follow["id"])
    assert await scalar(setup["url"], state) == "pending"
    # Then after a restart with processing on, the Accept of her Follow arrives
    write_toml(server.config_file, setup["raw"])
    await server.start()
    await remote.wait_for(accepted_follow("Accept", follow), timeout=TIMEOUT)
    followers = select(FollowerRow.state).where(FollowerRow.actor_id == alice.id)
    assert await scalar(setup["url"], followers) == "accepted"


@dataclass
class GatedRemote(RemoteServer):
    """A peer whose notes are served only once ``release`` is set (``asked``: one was asked
    for): copub's processing of a Create that names the note by id waits on it."""

    asked: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _note(self, request: web.Request) -> web.Response:
        self.asked.set()
        await self.release.wait()
        return await super()._note(request)


@pytest.fixture
async def gated() -> AsyncIterator[GatedRemote]:
    server = GatedRemote()
    await server.start()
    try:
        yield server
    finally:
        server.release.set()
        await server.close()


@pytest.fixture
async def any_server(database_url: str, tmp_path: Path) -> AsyncIterator[CopubProcess]:
    """copub as a process on the test's backend (SQLite or PostgreSQL), default leases."""
    port = free_port()
    config = write_toml(tmp_path / "copub.toml", config_dict(database_url, port))
    await run_cli(config, "community", "create", "nightshift", "--name", "Night Shift")
    proc = CopubProcess(config, f"http://127.0.0.1:{port}", tmp_path / "copub.log")
    try:
        yield proc
    finally:
        proc.stop()


async def test_sigkill_while_processing_is_taken_up_at_restart_not_after_the_lease(
    database_url: str, any_server: CopubProcess, gated: GatedRemote
) -> None:
    # Given alice follows the community
    await any_server.start()
    alice = gated.person("alice")
    actor = any_server.base_url + "/c/nightshift"
    sent = await gated.send_follow(alice, actor + "/inbox", actor)
    await gated.wait_for(accepted_follow("Accept", sent), timeout=TIMEOUT)
    # When copub is SIGKILLed while it processes her post (fetching it from her server)
    handle = "nightshift@" + any_server.base_url.split("://", 1)[1]
    note = gated.note(alice, "Night round tips", mention=(actor, handle))
    create = {**mastodon.create(alice, note), "object": note["id"]}
    status, answer = await gated.post(alice, actor + "/inbox", create)
    assert status == 202, answer
    async with asyncio.timeout(TIMEOUT):
        await gated.asked.wait()
    any_server.kill()
    leased = select(InboxItemRow.locked_until).where(InboxItemRow.activity_id == create["id"])
    lease_end = await scalar(database_url, leased)
    assert lease_end is not None, "the item was leased"
    assert lease_end > datetime.now(UTC), "the item was leased"
    # Then after a restart it is processed before the killed process's lease would end
    gated.release.set()
    await any_server.start()
    state = select(InboxItemRow.state).where(InboxItemRow.activity_id == create["id"])
    remaining = (lease_end - datetime.now(UTC)).total_seconds() - 1
    await wait_until(lambda: _equals(database_url, state, "done"), remaining, "the post processed")
    assert datetime.now(UTC) < lease_end
    stored = select(func.count()).select_from(ObjectRow).where(ObjectRow.ap_id == note["id"])
    assert await scalar(database_url, stored) == 1


async def _equals(url: str, statement: Any, value: Any) -> bool:
    return await scalar(url, statement) == value
