"""The per-host circuit breaker: a dead server is paused, live ones are served at once."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from federation.client import FederationClient
from federation.delivery.breaker import (
    Admit,
    BreakerPolicy,
    CircuitBreakers,
    CircuitView,
    is_host_failure,
)
from federation.errors import FetchError, UnsafeAddress
from tests import factories
from tests.delivery.inboxes import (
    FakeClock,
    InboxServer,
    StaticKeys,
    deliveries,
    make_worker,
    publish,
    start_inbox,
)

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_opens_after_consecutive_failures_and_probes_after_the_cooldown() -> None:
    breakers = CircuitBreakers(BreakerPolicy(failures=3, cooldown_seconds=60, probe_wait_seconds=5))
    for _ in range(2):
        assert breakers.admit("dead.test", T0) is Admit.GO
        breakers.record("dead.test", True, T0, probe=False)
    breakers.record("dead.test", False, T0, probe=False)  # a success resets the count
    for _ in range(3):
        breakers.record("dead.test", True, T0, probe=False)
    assert breakers.is_open("dead.test")
    assert breakers.admit("dead.test", at(59)) == at(60)
    assert breakers.admit("live.test", at(59)) is Admit.GO

    assert breakers.admit("dead.test", at(60)) is Admit.PROBE  # half-open: one probe
    assert breakers.admit("dead.test", at(61)) == at(66)  # the others step aside
    breakers.record("dead.test", True, at(62), probe=True)  # probe failed: twice as long
    assert breakers.admit("dead.test", at(181)) == at(182)
    assert breakers.admit("dead.test", at(182)) is Admit.PROBE
    breakers.record("dead.test", False, at(183), probe=True)  # probe succeeded: closed
    assert not breakers.is_open("dead.test")
    assert breakers.admit("dead.test", at(183)) is Admit.GO


def test_what_counts_as_a_host_failure() -> None:
    assert is_host_failure(503, None) is True
    assert is_host_failure(None, FetchError("timed out")) is True
    assert is_host_failure(202, None) is False
    assert is_host_failure(403, None) is False
    assert is_host_failure(429, None) is None  # alive, asking us to slow down
    assert is_host_failure(None, UnsafeAddress("private")) is None  # our refusal


def test_running_out_of_local_resources_is_not_the_hosts_failure() -> None:
    """The client wraps the network's errors (``FetchError from ClientConnectorError``):
    out of open files or local ports, the host is not blamed; refused or reset, it is."""
    for code in (errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL, errno.ENOBUFS):
        wrapped = FetchError(f"inbox.test: {os.strerror(code)}")
        wrapped.__cause__ = OSError(code, os.strerror(code))
        assert is_host_failure(None, wrapped) is None, code
    for code in (errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH):
        assert is_host_failure(None, ConnectionError(code, os.strerror(code))) is True, code


def test_an_operator_reads_a_circuit_and_lets_one_probe_through_now() -> None:
    """What an operator sees of a host's circuit (closed, open until, probing), and their
    "retry now": the cooldown ends at once, one job goes as a probe, the others wait."""
    breakers = CircuitBreakers(
        BreakerPolicy(failures=2, cooldown_seconds=600, probe_wait_seconds=5)
    )
    assert breakers.circuit("dead.test", T0) == CircuitView("closed", 0, None)
    breakers.record("dead.test", True, T0, probe=False)
    assert breakers.circuit("dead.test", T0) == CircuitView("closed", 1, None)
    breakers.record("dead.test", True, T0, probe=False)
    assert breakers.circuit("dead.test", at(1)) == CircuitView("open", 2, at(600))

    assert breakers.retry_now("dead.test", at(10)) is True
    assert breakers.circuit("dead.test", at(10)) == CircuitView("open", 2, at(10))
    assert breakers.admit("dead.test", at(10)) is Admit.PROBE
    assert breakers.circuit("dead.test", at(10)).state == "probing"
    assert breakers.admit("dead.test", at(11)) == at(16)  # the others step aside
    breakers.record("dead.test", True, at(12), probe=True)  # still down: twice as long
    assert breakers.circuit("dead.test", at(12)) == CircuitView("open", 3, at(1212))
    assert breakers.retry_now("live.test", at(12)) is False  # nothing to end
    assert breakers.circuit("live.test", at(12)) == CircuitView("closed", 0, None)


@pytest.fixture
async def community(sessions: async_sessionmaker[AsyncSession]) -> Community:
    return await factories.create_community(sessions)


@pytest.fixture
async def servers(community: Community) -> AsyncIterator[tuple[InboxServer, InboxServer]]:
    dead, live = await start_inbox(StaticKeys(community)), await start_inbox(StaticKeys(community))
    yield dead, live
    await dead.close()
    await live.close()


async def test_dead_host_is_paused_while_a_live_host_is_served(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    servers: tuple[InboxServer, InboxServer],
) -> None:
    dead, live = servers
    dead.script("/inbox", *([503] * 100))
    for _ in range(30):
        await publish(sessions, community, [dead.url("/inbox"), live.url("/inbox")])
    clock = FakeClock()
    clock.now = max(r.next_try_at for r in await deliveries(sessions))
    policy = BreakerPolicy(failures=3, cooldown_seconds=600, probe_wait_seconds=30)
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        worker = make_worker(sessions, client, clock=clock, breaker=policy, per_host=8)

        # One round: every live job lands; the dead host sees at most the requests
        # already in flight when its circuit opened, and the rest wait without a request.
        assert await worker.run_once() == 60
        assert live.count() == 30
        assert 3 <= dead.count() <= 3 + 8 - 1
        rows = await deliveries(sessions)
        assert {r.state for r in rows if r.host == live.host} == {"done"}
        waiting = [r for r in rows if r.host == dead.host and r.attempts == 0]
        assert len(waiting) == 30 - dead.count()
        assert all(r.next_try_at >= clock.now + timedelta(seconds=600) for r in waiting)

        # While the circuit is open, jobs that come due are put back without a request.
        sent = dead.count()
        clock.advance(300)
        await worker.drain()
        assert dead.count() == sent
        # After the cooldown one probe goes first.
        dead.scripts["/inbox"].clear()  # the server is back
        clock.advance(301)
        await worker.run_once()
        assert dead.count() == sent + 1, "one probe while half-open"
        clock.advance(30)
        await worker.drain()
        rows = await deliveries(sessions)
        assert {r.state for r in rows if r.host == dead.host} == {"done"}
        assert dead.count() == 30 + sent


async def test_a_slow_host_does_not_fill_the_worker(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    servers: tuple[InboxServer, InboxServer],
) -> None:
    slow, live = servers
    slow.hold = asyncio.Event()  # the slow host answers nothing until released
    for _ in range(20):
        await publish(sessions, community, [slow.url("/inbox")])
    for _ in range(5):
        await publish(sessions, community, [live.url("/inbox")])
    clock = FakeClock()
    clock.now = max(r.next_try_at for r in await deliveries(sessions))
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        # Room for 10 claimed jobs, of which at most 2 x 4 may wait for one host.
        worker = make_worker(
            sessions, client, clock=clock, concurrency=5, per_host=2, poll_interval=0.05
        )
        task = asyncio.create_task(worker.run())
        try:
            await live.wait_for(5)
            assert slow.count() == 2  # its two slots, both still waiting for an answer
        finally:
            slow.hold.set()
            worker.stop()
            await task
        clock.advance(1)  # the jobs put back for later are due
        await make_worker(sessions, client, clock=clock).drain()
    assert {r.state for r in await deliveries(sessions)} == {"done"}
    assert slow.count() == 20
