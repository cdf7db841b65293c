"""The delivery worker against real inbox servers on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.store.models import FollowerRow
from federation.client import FederationClient
from federation.delivery.breaker import BreakerPolicy
from federation.delivery.retry import RetryPolicy
from tests import factories
from tests.delivery.inboxes import (
    URLS,
    FakeClock,
    InboxServer,
    StaticKeys,
    add_follower,
    deliveries,
    make_worker,
    publish,
    start_inbox,
)

NO_BREAKER = BreakerPolicy(failures=10_000)


@pytest.fixture
async def community(sessions: async_sessionmaker[AsyncSession]) -> Community:
    return await factories.create_community(sessions)


@pytest.fixture
async def fed_client() -> AsyncIterator[FederationClient]:
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        yield client


@pytest.fixture
async def inbox(community: Community) -> AsyncIterator[InboxServer]:
    server = await start_inbox(StaticKeys(community))
    yield server
    await server.close()


@pytest.fixture
async def inbox2(community: Community) -> AsyncIterator[InboxServer]:
    server = await start_inbox(StaticKeys(community))
    yield server
    await server.close()


async def test_fan_out_delivers_signed_once_per_shared_inbox(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
    inbox2: InboxServer,
) -> None:
    for name in ("ann", "bob", "cy"):
        await add_follower(
            sessions,
            community,
            inbox.url(f"/users/{name}"),
            inbox.url(f"/users/{name}/inbox"),
            inbox.url("/inbox"),
        )
    await add_follower(sessions, community, inbox2.url("/u/dee"), inbox2.url("/u/dee/inbox"))
    ap_id = await publish(sessions, community)

    assert await make_worker(sessions, fed_client).drain() == 2

    assert [(r.path, r.activity_id) for r in inbox.received] == [("/inbox", ap_id)]
    assert [(r.path, r.activity_id) for r in inbox2.received] == [("/u/dee/inbox", ap_id)]
    for received in inbox.received + inbox2.received:
        assert received.key_id == URLS.community_key(community.slug), "signature verified"
        assert received.body["actor"] == URLS.community(community.slug)
    rows = await deliveries(sessions)
    assert {(r.state, r.attempts, r.last_status, r.locked_until) for r in rows} == {
        ("done", 1, 202, None)
    }


async def test_503_is_retried_until_it_lands(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
) -> None:
    inbox.script("/inbox", 503, 503)
    await publish(sessions, community, [inbox.url("/inbox")])
    worker = make_worker(sessions, fed_client)

    assert await worker.run_once() == 1
    [row] = await deliveries(sessions)
    assert (row.state, row.attempts, row.last_status) == ("retrying", 1, 503)

    assert await worker.drain() == 2
    [row] = await deliveries(sessions)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("done", 3, 202, None)
    assert inbox.count("/inbox") == 3


@pytest.mark.parametrize(("status", "retry_after"), [(503, 3600), (429, 120)])
async def test_retry_after_is_honoured(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
    status: int,
    retry_after: int,
) -> None:
    clock = FakeClock()
    inbox.script("/inbox", status, headers={"Retry-After": str(retry_after)})
    await publish(sessions, community, [inbox.url("/inbox")])
    clock.now = (await deliveries(sessions))[0].next_try_at
    worker = make_worker(sessions, fed_client, clock=clock)

    assert await worker.run_once() == 1
    [row] = await deliveries(sessions)
    assert (row.state, row.last_status) == ("retrying", status)
    assert row.next_try_at >= clock.now + timedelta(seconds=retry_after)
    clock.advance(retry_after - 1)
    assert await worker.run_once() == 0, "not due before Retry-After"
    clock.advance(1)
    assert await worker.run_once() == 1
    [row] = await deliveries(sessions)
    assert (row.state, row.attempts) == ("done", 2)


async def test_retry_after_beyond_two_days_gives_up(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
) -> None:
    inbox.script("/inbox", 503, headers={"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"})
    await publish(sessions, community, [inbox.url("/inbox")])

    assert await make_worker(sessions, fed_client).drain() == 1

    [row] = await deliveries(sessions)
    assert (row.state, row.last_status) == ("failed", 503)
    assert row.last_error
    assert row.last_error.startswith("gave up after 1 attempts")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (400, "failed"),
        (401, "failed"),
        (403, "failed"),
        (404, "failed"),
        (302, "failed"),
        (408, "retrying"),
        (429, "retrying"),
        (500, "retrying"),
        (502, "retrying"),
    ],
)
async def test_which_answers_are_retried(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
    status: int,
    state: str,
) -> None:
    clock = FakeClock()
    knocks = 2 if status == 401 else 1  # a 401 is asked again with the other signature scheme
    inbox.script("/inbox", *[status] * knocks)
    await publish(sessions, community, [inbox.url("/inbox")])
    clock.now = (await deliveries(sessions))[0].next_try_at
    worker = make_worker(sessions, fed_client, clock=clock, policy=RetryPolicy())

    assert await worker.drain() == 1  # nothing due again: a failure is final, a retry waits
    [row] = await deliveries(sessions)
    assert (row.state, row.attempts, row.last_status) == (state, 1, status)
    assert inbox.count() == knocks


async def test_410_removes_the_followers_at_that_inbox(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
) -> None:
    await add_follower(sessions, community, inbox.url("/u/gone"), inbox.url("/u/gone/inbox"))
    await add_follower(sessions, community, inbox.url("/u/here"), inbox.url("/u/here/inbox"))
    inbox.script("/u/gone/inbox", 410)
    await publish(sessions, community)

    assert await make_worker(sessions, fed_client).drain() == 2

    rows = {r.inbox: (r.state, r.last_status) for r in await deliveries(sessions)}
    assert rows == {
        inbox.url("/u/gone/inbox"): ("failed", 410),
        inbox.url("/u/here/inbox"): ("done", 202),
    }
    async with sessions() as session:
        followers = list(await session.scalars(select(FollowerRow.actor_id)))
    assert followers == [inbox.url("/u/here")]


async def test_unreachable_inbox_is_retried(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
) -> None:
    dead = inbox.url("/inbox")
    await inbox.close()  # nothing listens there any more: connection refused
    await publish(sessions, community, [dead])

    assert await make_worker(sessions, fed_client).run_once() == 1

    [row] = await deliveries(sessions)
    assert (row.state, row.attempts, row.last_status) == ("retrying", 1, None)
    assert row.last_error
    assert "inbox" in row.last_error


async def test_gives_up_after_two_days(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    fed_client: FederationClient,
    inbox: InboxServer,
) -> None:
    clock = FakeClock()
    inbox.script("/inbox", *([503] * 100))
    await publish(sessions, community, [inbox.url("/inbox")])
    [row] = await deliveries(sessions)
    clock.now = row.next_try_at
    worker = make_worker(
        sessions, fed_client, clock=clock, policy=RetryPolicy(), breaker=NO_BREAKER
    )

    tries = 0
    while row.state == "retrying" or row.state == "queued":
        assert await worker.run_once() == 1
        tries += 1
        [row] = await deliveries(sessions)
        clock.now = max(clock.now, row.next_try_at)
    assert row.state == "failed"
    assert row.last_error
    assert row.last_error.startswith("gave up after")
    assert 12 <= tries <= 20
    assert clock.now - row.created_at < timedelta(days=2)
    assert inbox.count() == tries
