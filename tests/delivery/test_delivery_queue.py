"""The delivery queue in the database: fan-out targets, enqueueing, leases, claiming."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import outbound, signing
from actors.community import Community
from actors.store import jobs, social
from actors.store.db import create_engine, sessionmaker
from actors.store.jobqueue import SqlJobQueue
from actors.store.models import ActivityRow, DeliveryRow
from federation.delivery.ports import Done, Fail, JobResult
from tests import factories
from tests.delivery.inboxes import URLS, FakeClock, add_follower, deliveries, publish


@pytest.fixture
async def community(sessions: async_sessionmaker[AsyncSession]) -> Community:
    return await factories.create_community(sessions)


async def test_followers_collapse_onto_shared_inboxes(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    other = await factories.create_community(sessions, "other")
    for name in ("ann", "bob", "cy"):
        await add_follower(
            sessions,
            community,
            f"https://masto.test/users/{name}",
            f"https://masto.test/users/{name}/inbox",
            "https://masto.test/inbox",
        )
    await add_follower(
        sessions, community, "https://solo.test/u/dee", "https://solo.test/u/dee/inbox"
    )
    await add_follower(
        sessions,
        community,
        "https://wait.test/u/eve",
        "https://wait.test/u/eve/inbox",
        state="pending",
    )
    await add_follower(
        sessions, community, "https://bad.test/u/fay", "https://bad.test/u/fay/inbox"
    )
    await add_follower(
        sessions, community, "https://spam.test/u/gus", "https://spam.test/u/gus/inbox"
    )
    await add_follower(
        sessions, community, "https://fine.test/u/hal", "https://fine.test/u/hal/inbox"
    )
    async with sessions.begin() as session:
        await social.add_block(session, community.id, "actor", "https://bad.test/u/fay")
        await social.add_block(session, None, "domain", "spam.test")
        await social.add_block(session, other.id, "domain", "fine.test")  # another community's
    async with sessions() as session:
        inboxes = await jobs.follower_inboxes(session, community.id)
    assert inboxes == [
        "https://masto.test/inbox",
        "https://solo.test/u/dee/inbox",
        "https://fine.test/u/hal/inbox",
    ]
    # Without domain blocks the database collapses the inboxes: the same answer.
    async with sessions.begin() as session:
        await social.remove_block(session, None, "domain", "spam.test")
    async with sessions() as session:
        inboxes = await jobs.follower_inboxes(session, community.id)
    assert inboxes == [
        "https://masto.test/inbox",
        "https://solo.test/u/dee/inbox",
        "https://spam.test/u/gus/inbox",
        "https://fine.test/u/hal/inbox",
    ]


async def test_one_job_per_inbox_written_with_the_activity(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    inboxes = ["https://a.test/inbox", "https://b.test:8443/inbox", "https://a.test/inbox"]
    await publish(sessions, community, [*inboxes, "not a url", "ftp://c.test/inbox"])
    rows = await deliveries(sessions)
    assert [(r.inbox, r.host, r.state, r.attempts) for r in rows] == [
        ("https://a.test/inbox", "a.test", "queued", 0),
        ("https://b.test:8443/inbox", "b.test:8443", "queued", 0),
    ]
    # Queueing the same activity for the same inbox again keeps the one job.
    async with sessions.begin() as session:
        assert (
            await jobs.enqueue_deliveries(session, rows[0].activity_id, community.id, inboxes) == 2
        )
    assert len(await deliveries(sessions)) == 2

    # The activity and its jobs commit or roll back together.
    class Abort(Exception):
        pass

    async def write_then_abort() -> None:
        async with sessions.begin() as session:
            row = await social.insert_activity(
                session,
                community_id=community.id,
                ap_json={"id": "https://cop.test/x", "type": "Create"},
                object_ap_id=None,
            )
            await jobs.enqueue_deliveries(session, row.id, community.id, ["https://d.test/inbox"])
            raise Abort

    with pytest.raises(Abort):
        await write_then_abort()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ActivityRow)) == 1
    assert len(await deliveries(sessions)) == 2


async def test_expired_lease_is_claimed_again_and_stale_outcomes_ignored(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    clock = FakeClock()
    queue = SqlJobQueue(sessions, URLS, clock=clock)
    await publish(sessions, community, ["https://a.test/inbox", "https://b.test/inbox"])
    clock.now = (await deliveries(sessions))[0].next_try_at

    first = await queue.claim(10, lease_seconds=60)  # then the worker "crashes"
    assert sorted(j.inbox for j in first) == ["https://a.test/inbox", "https://b.test/inbox"]
    assert first[0].signer.key_id == URLS.community_key(community.slug)
    assert first[0].activity_id.startswith(URLS.community(community.slug))
    assert await queue.claim(10, lease_seconds=60) == []  # leased

    clock.advance(61)
    second = await queue.claim(10, lease_seconds=60)
    assert sorted(j.id for j in second) == sorted(j.id for j in first)
    await queue.complete([JobResult(j, Done(), status=202) for j in second])
    # The first worker comes back late: its outcomes no longer count.
    await queue.complete([JobResult(j, Fail("late"), status=500) for j in first])
    rows = await deliveries(sessions)
    assert {(r.state, r.attempts, r.last_status, r.locked_until) for r in rows} == {
        ("done", 1, 202, None)
    }


async def test_concurrent_claimers_never_claim_the_same_job(
    sessions: async_sessionmaker[AsyncSession], database_url: str, community: Community
) -> None:
    inboxes = [f"https://h{i}.test/inbox" for i in range(300)]
    await publish(sessions, community, inboxes)
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        queues = [SqlJobQueue(sessionmaker(engine), URLS) for engine in engines]

        async def claim_all(queue: SqlJobQueue) -> list[int]:
            got: list[int] = []
            while batch := await queue.claim(7, lease_seconds=300):
                got.extend(job.id for job in batch)
                await asyncio.sleep(0)  # let the other claimers interleave
            return got

        claimed = await asyncio.gather(*(claim_all(q) for q in queues))
    finally:
        for engine in engines:
            await engine.dispose()
    everything = [job_id for got in claimed for job_id in got]
    assert len(everything) == len(set(everything)) == 300


async def test_stats_and_listing_for_operators(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    queue = SqlJobQueue(sessions, URLS)
    ap_id = await publish(sessions, community, ["https://a.test/inbox", "https://b.test/inbox"])
    [job, _other] = sorted(await queue.claim(10, 60), key=lambda j: j.inbox)
    await queue.complete([JobResult(job, Fail("HTTP 403"), status=403, error="forbidden")])
    async with sessions() as session:
        assert await jobs.delivery_stats(session) == {
            "queued": 1,
            "retrying": 0,
            "done": 0,
            "failed": 1,
        }
        failed = await jobs.list_deliveries(session, ("failed",))
    assert [(v.inbox, v.activity, v.last_status, v.last_error) for v in failed] == [
        ("https://a.test/inbox", ap_id, 403, "HTTP 403: forbidden")
    ]
    async with sessions() as session:
        rows = await session.scalars(select(DeliveryRow.state))
        assert sorted(rows) == ["failed", "queued"]


async def test_a_claim_larger_than_the_caches(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    other = await factories.create_community(sessions, "other")
    ids = [await publish(sessions, c, ["https://a.test/inbox"]) for c in (community, other) * 3]
    queue = SqlJobQueue(sessions, URLS, cache_size=2)
    await queue.prepare()
    jobs_ = await queue.claim(10, 60)
    assert sorted(j.activity_id for j in jobs_) == sorted(ids)
    assert {j.signer.key_id for j in jobs_} == {
        URLS.community_key(community.slug),
        URLS.community_key("other"),
    }
    assert all(j.body.startswith(b'{"@context"') for j in jobs_)


async def test_what_the_moderation_actor_sends_is_signed_with_its_key(
    sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    # Given the server's key, and a report the moderation actor sends for the community
    await signing.server_signer(sessions, URLS)
    report = {"id": URLS.activity(community.slug, "r1"), "type": "Flag",
              "actor": URLS.moderation(), "object": ["https://a.test/users/x"]}  # fmt: skip
    async with sessions.begin() as session:
        await outbound.send_to_inbox(session, community, report, "https://a.test/inbox")
    await publish(sessions, community, ["https://b.test/inbox"])
    # When the worker claims both deliveries
    clock = FakeClock()
    clock.now = max(d.next_try_at for d in await deliveries(sessions))
    jobs_ = {j.inbox: j for j in await SqlJobQueue(sessions, URLS, clock=clock).claim(10, 60)}
    # Then the report is signed as the moderation actor, the community's post as the community
    assert jobs_["https://a.test/inbox"].signer.key_id == URLS.moderation_key()
    assert jobs_["https://b.test/inbox"].signer.key_id == URLS.community_key(community.slug)
