"""Peer health shared in the database (``peer_health``): a server failing on 7 distinct
(simulated) days is unavailable, and every worker then puts its deliveries back unsent, not
failed; one success brings it back (a delivery that lands, an activity from it reaching
our inbox); ``copub deliveries retry --host`` resets it; ``copub peers`` lists them all."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.inbound.context import InboundContext
from actors.inbound.processor import InboxProcessor
from actors.store.db import is_sqlite
from actors.store.inbox_queue import InboxWriter
from actors.store.models import RemoteActorRow
from actors.store.peer_health import SqlPeerHealth
from federation.client import FederationClient
from federation.clock import utcnow
from federation.delivery.breaker import BreakerPolicy, Circuit
from federation.delivery.health import HostReport, PeerState, PeerStatus, peer_after
from federation.delivery.retry import RetryPolicy
from federation.delivery.worker import DeliveryWorker
from federation.inbox import AcceptedActivity
from federation.routing import ActivityRouter
from federation.vocab import JSON
from tests import factories
from tests.delivery.inboxes import (
    URLS,
    FakeClock,
    InboxServer,
    StaticKeys,
    deliveries,
    make_worker,
    publish,
    start_inbox,
)
from tests.flows.copub import run_cli

Sessions = async_sessionmaker[AsyncSession]
HOURLY = RetryPolicy(base_seconds=3600, factor=1, jitter=0, max_age_seconds=None,
                     max_attempts=1000)  # fmt: skip
DAY = timedelta(days=1)


# -- the rule, on its own -------------------------------------------------------------------


def test_distinct_failing_days_count_and_a_success_forgets_them() -> None:
    policy = BreakerPolicy(failures=1000)
    state = PeerState("down.example")
    monday = datetime(2030, 1, 7, 9, tzinfo=UTC)

    def fail(at: datetime) -> None:
        nonlocal state
        state = peer_after(state, HostReport("down.example", at, True, error="HTTP 503"), policy)

    for n in range(3):  # three failures on one day: one day
        fail(monday + timedelta(hours=n))
    assert (state.failure_days, state.status) == (1, PeerStatus.FAILING)
    fail(monday - timedelta(hours=1))  # a clock gone back: no day more
    for day in (2, 4, 5, 8, 9):  # days need not follow each other
        fail(monday + timedelta(days=day))
    assert (state.failure_days, state.status) == (6, PeerStatus.FAILING)
    assert state.failing_since == monday
    fail(monday + timedelta(days=12, hours=14, minutes=59))
    assert state.failure_days == 7
    assert state.status is PeerStatus.UNAVAILABLE
    assert state.unavailable_since == monday + timedelta(days=12, hours=14, minutes=59)
    assert state.last_failure_day == date(2030, 1, 19)

    back = monday + timedelta(days=13)
    state = peer_after(state, HostReport("down.example", back, False), policy)
    assert state.status is PeerStatus.AVAILABLE
    assert (state.failure_days, state.failing_since, state.unavailable_since) == (0, None, None)
    assert state.last_success_at == back
    assert state.last_error == "HTTP 503"  # kept for operators, with its time


# -- with a worker and a failing inbox ------------------------------------------------------


@pytest.fixture
async def community(sessions: Sessions) -> Community:
    return await factories.create_community(sessions)


@pytest.fixture
async def down(community: Community) -> AsyncIterator[InboxServer]:
    """An inbox answering 503 (``down.scripts[...].clear()``: it is back)."""
    server = await start_inbox(StaticKeys(community))
    server.script("/inbox", *([503] * 1000))
    yield server
    await server.close()


@pytest.fixture
async def client() -> AsyncIterator[FederationClient]:
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        yield client


def first_hour_of_a_day() -> FakeClock:
    """A clock at 01:00 UTC of a day to come (the deliveries queued now are due)."""
    clock = FakeClock()
    clock.now = (utcnow() + DAY).replace(hour=1, minute=0, second=0, microsecond=0)
    return clock


def worker_of(sessions: Sessions, client: FederationClient, clock: FakeClock) -> DeliveryWorker:
    return make_worker(sessions, client, clock=clock, policy=HOURLY, health=SqlPeerHealth(sessions))


async def state_of(sessions: Sessions, host: str) -> PeerState:
    [state] = await SqlPeerHealth(sessions).load([host])
    return state


async def fail_for_seven_days(
    sessions: Sessions, client: FederationClient, community: Community, down: InboxServer
) -> FakeClock:
    """One delivery to ``down`` tried twice a day (an hour apart) for 7 days, until it is
    unavailable; the clock is left on the 8th day."""
    clock = first_hour_of_a_day()
    worker = worker_of(sessions, client, clock)
    await publish(sessions, community, [down.url("/inbox")])
    for day in range(7):
        for _ in range(2):
            assert await worker.run_once() == 1
            clock.advance(3600)
        state = await state_of(sessions, down.host)
        assert state.failure_days == day + 1, "two failures on one day count once"
        assert state.status is (PeerStatus.UNAVAILABLE if day == 6 else PeerStatus.FAILING)
        clock.now += DAY - timedelta(hours=2)
    # The first failure of the 7th day made it unavailable: the second try stayed here.
    assert down.count() == 13
    assert worker.is_unavailable(down.host)
    return clock


async def test_seven_failing_days_make_a_peer_unavailable_and_it_is_skipped(
    sessions: Sessions, client: FederationClient, community: Community, down: InboxServer
) -> None:
    clock = await fail_for_seven_days(sessions, client, community, down)
    live = await start_inbox(StaticKeys(community))
    try:
        await publish(sessions, community, [down.url("/inbox"), live.url("/inbox")])
        # Another worker (another process) learns it from the database, not by trying.
        other = worker_of(sessions, client, clock)
        assert await other.run_once() == 2
    finally:
        await live.close()
    assert down.count() == 13, "nothing more was sent to the unavailable server"
    assert live.count() == 1
    rows = [r for r in await deliveries(sessions) if r.host == down.host]
    assert {r.state for r in rows} == {"retrying", "queued"}, "put back, not failed"
    assert [r.attempts for r in rows] == [13, 0]
    # the new one, put back now for a day, and with it every job of that server due sooner
    # (the first one's retry, in an hour): none is claimed again before the day is over
    assert [r.next_try_at for r in rows] == [clock.now + DAY, clock.now + DAY]
    assert other.counts == {"done": 1, "retry": 0, "gone": 0, "fail": 0, "defer": 1}


async def test_one_success_brings_it_back_and_its_deliveries_go(
    sessions: Sessions, client: FederationClient, community: Community, down: InboxServer
) -> None:
    clock = await fail_for_seven_days(sessions, client, community, down)
    await publish(sessions, community, [down.url("/inbox")])
    health = SqlPeerHealth(sessions)
    # A worker that had not heard of it yet lets a job through as its circuit's probe.
    back = await health.record([HostReport(down.host, clock.now, False, probe=True)])
    assert [s.status for s in back] == [PeerStatus.AVAILABLE]
    assert all(r.next_try_at <= clock.now for r in await deliveries(sessions)), "due now"
    down.scripts["/inbox"].clear()
    worker = worker_of(sessions, client, clock)
    assert await worker.run_once() == 2
    assert {r.state for r in await deliveries(sessions)} == {"done"}
    state = await state_of(sessions, down.host)
    assert (state.status, state.failure_days) == (PeerStatus.AVAILABLE, 0)
    assert state.last_success_at == clock.now


async def test_a_healthy_peers_successes_are_written_once_a_minute(
    sessions: Sessions, client: FederationClient, community: Community
) -> None:
    """A relay to a few hundred inboxes wrote every success: one write transaction with each
    flush of outcomes. A healthy host's last success is kept to the minute; a success after
    a failure is written at once (it forgets the failure)."""
    live = await start_inbox(StaticKeys(community))
    clock = first_hour_of_a_day()
    worker = worker_of(sessions, client, clock)

    async def deliver_one() -> PeerState:
        await publish(sessions, community, [live.url("/inbox")])
        assert await worker.run_once() == 1
        return await state_of(sessions, live.host)

    try:
        first = clock.now
        assert (await deliver_one()).last_success_at == first
        clock.advance(59)
        assert (await deliver_one()).last_success_at == first, "not written again"
        clock.advance(2)
        assert (await deliver_one()).last_success_at == clock.now, "a minute on: written"
        live.script("/inbox", 503)
        clock.advance(1)
        failed = await deliver_one()
        assert (failed.status, failed.last_failure_at) == (PeerStatus.FAILING, clock.now)
        clock.advance(1)  # within the minute: written all the same, the failure forgotten
        back = await deliver_one()
        assert (back.status, back.last_success_at) == (PeerStatus.AVAILABLE, clock.now)
    finally:
        await live.close()
    assert live.count() == 5


async def test_while_a_circuit_is_open_its_servers_jobs_wait_unclaimed(
    sessions: Sessions, client: FederationClient, community: Community, down: InboxServer
) -> None:
    """A dead follower's backlog was claimed and put back job by job each time it came due
    (bench/bench_hostile.py: 60 % of what the worker claimed after four minutes). Now the
    first job put back for an open circuit puts back all of that server's waiting jobs, and
    a job queued while the circuit is open is first due when it closes."""
    clock = first_hour_of_a_day()
    breaker = BreakerPolicy(failures=1, cooldown_seconds=60)
    health = SqlPeerHealth(sessions, breaker)
    worker = make_worker(sessions, client, clock=clock, policy=HOURLY, breaker=breaker,
                         health=health, concurrency=1, per_host=1)  # fmt: skip
    for _ in range(4):
        await publish(sessions, community, [down.url("/inbox")])
    assert await worker.run_once() == 2, "as many as it holds: one tried and failed, one put back"
    assert down.count() == 1
    closes = clock.now + timedelta(seconds=60)
    assert await worker.run_once() == 0, "the two it did not hold wait for the circuit too"
    await publish(sessions, community, [down.url("/inbox")])  # queued while it is open
    assert await worker.run_once() == 0
    waiting = [r for r in await deliveries(sessions) if r.state == "queued"]
    assert [r.next_try_at for r in waiting] == [closes] * 4
    clock.now = closes
    assert await worker.run_once() == 2, "due when it closes: one probe, one put back"
    assert down.count() == 2


async def _nobody(iri: str, _community: Community | None) -> RemoteActorRow:
    raise AssertionError(f"nothing is fetched here ({iri})")


async def _nothing(iri: str, _community: Community | None) -> JSON:
    raise AssertionError(f"nothing is fetched here ({iri})")


async def test_an_activity_from_it_brings_it_back(
    sessions: Sessions,
    database_url: str,
    client: FederationClient,
    community: Community,
    down: InboxServer,
) -> None:
    clock = await fail_for_seven_days(sessions, client, community, down)
    origin = f"http://{down.host}"
    like: JSON = {"id": f"{origin}/likes/1", "type": "Like", "actor": f"{origin}/u",
                  "object": f"{origin}/n/1"}  # fmt: skip
    postgresql = not is_sqlite(database_url)
    writer = InboxWriter(sessions, postgresql=postgresql)
    await writer.store(AcceptedActivity.of(like, json.dumps(like).encode(), like["actor"]), None)
    processor = InboxProcessor(
        urls=URLS, sessions=sessions, router=ActivityRouter[InboundContext](),
        lookup_actor=_nobody, fetch_object=_nothing, skip_locked=postgresql,
    )  # fmt: skip
    assert await processor.run_once() == 1

    state = await state_of(sessions, down.host)
    assert (state.status, state.failure_days) == (PeerStatus.AVAILABLE, 0)
    down.scripts["/inbox"].clear()
    assert await worker_of(sessions, client, clock).run_once() == 1
    assert {r.state for r in await deliveries(sessions)} == {"done"}
    assert down.count() == 14


async def test_retry_host_resets_it(
    sessions: Sessions,
    config_file: Path,
    client: FederationClient,
    community: Community,
    down: InboxServer,
) -> None:
    clock = await fail_for_seven_days(sessions, client, community, down)
    await publish(sessions, community, [down.url("/inbox")])
    worker = worker_of(sessions, client, clock)
    assert await worker.run_once() == 1  # the new one, put back unsent
    assert worker.is_unavailable(down.host)
    assert down.count() == 13
    out = await run_cli(config_file, "deliveries", "retry", "--host", down.host)
    assert out.splitlines() == [
        f"2 deliveries to {down.host} due now (2 waiting, 0 failed before)",
        f"{down.host} is available again, its failing days forgotten "
        "(an open circuit lets the next delivery through as a probe)",
    ]
    state = await state_of(sessions, down.host)
    assert (state.status, state.failure_days) == (PeerStatus.AVAILABLE, 0)
    assert state.circuit.open_until is None or state.circuit.open_until <= utcnow()
    down.scripts["/inbox"].clear()
    assert await worker.run_once() == 2  # the same worker: it reads the reset at its claim
    assert not worker.is_unavailable(down.host)
    assert down.count() == 14, "the half-open circuit's probe; the other one steps aside"
    clock.advance(BreakerPolicy().probe_wait_seconds)
    assert await worker.run_once() == 1
    assert down.count() == 15
    assert {r.state for r in await deliveries(sessions)} == {"done"}
    again = await run_cli(config_file, "deliveries", "retry", "--host", down.host)
    assert again.strip() == f"0 deliveries to {down.host} due now (0 waiting, 0 failed before)"


# -- copub peers ----------------------------------------------------------------------------


async def test_peers_lists_each_state(sessions: Sessions, config_file: Path) -> None:
    assert (await run_cli(config_file, "peers")).strip() == "no peers yet"
    t = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)  # circuits opened then are over
    reports = [HostReport("up.example", t, False)]
    reports += [HostReport("flaky.example", t + timedelta(days=d), True, error="HTTP 502")
                for d in range(2)]  # fmt: skip
    reports += [HostReport("dead.example", t + timedelta(days=d), True,
                           error="connection refused\n(twice)") for d in range(7)]  # fmt: skip
    policy = BreakerPolicy(failures=3, cooldown_seconds=60)
    await SqlPeerHealth(sessions, policy).record(reports)

    lines = (await run_cli(config_file, "peers")).splitlines()
    assert lines[0].split() == ["host", "state", "days", "circuit", "last", "success"]
    assert lines[1].split() == [
        "dead.example", "unavailable", "since", "2025-03-07", "09:30", "7",
        "half-open", "(probe", "next)", "-",
    ]  # fmt: skip
    assert lines[2].split() == [
        "last", "error", "2025-03-07", "09:30:", "connection", "refused", "(twice)",
    ]  # fmt: skip
    assert lines[3].split() == [
        "flaky.example", "failing", "since", "2025-03-01", "09:30", "2",
        "closed", "(2", "failed)", "-",
    ]  # fmt: skip
    assert lines[4].split()[-1] == "502"
    assert lines[5].split() == ["up.example", "available", "0", "closed", "2025-03-01", "09:30"]
    assert len(lines) == 6

    failing = (await run_cli(config_file, "peers", "--failing")).splitlines()
    assert [line.split()[0] for line in failing] == [
        "host", "dead.example", "last", "flaky.example", "last",
    ]  # fmt: skip


async def test_a_success_after_an_open_circuit_was_shared_closes_it(sessions: Sessions) -> None:
    """Workers share the circuit too: the state a worker adopts is the stored one."""
    policy = BreakerPolicy(failures=2, cooldown_seconds=60)
    health = SqlPeerHealth(sessions, policy)
    t = utcnow()
    [state] = await health.record(
        [HostReport("x.example", t, True), HostReport("x.example", t, True)]
    )
    assert state.circuit == Circuit(2, t + timedelta(seconds=60), 60.0)
    [state] = await health.record([HostReport("x.example", t + timedelta(seconds=61), False,
                                              probe=True)])  # fmt: skip
    assert state.circuit == Circuit()
