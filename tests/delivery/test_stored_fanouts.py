"""A fan-out to many inboxes (actors/store/jobs.py): stored whole in its activity's
transaction, queued by the delivery worker a chunk at a time as it claims, every inbox once,
a community's fan-outs in the order they came; what is still stored counts as queued."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import fanout, jobs
from actors.store.dashboard import counts
from actors.store.health import queue_depths
from actors.store.jobqueue import SqlJobQueue
from actors.store.models import ActivityRow, CommunityRow, DeliveryRow, FanoutRow
from actors.store.states import JobState
from tests import factories
from tests.delivery.inboxes import URLS, deliveries, publish

Sessions = async_sessionmaker[AsyncSession]
MANY = jobs.FANOUT_AT_ONCE * 2 + 10
CHUNKS = [jobs.FANOUT_AT_ONCE, jobs.FANOUT_AT_ONCE, 10]  # stored so


def inboxes(n: int, host: str = "h") -> list[str]:
    return [f"https://{host}{i}.test/inbox" for i in range(n)]


async def stored(sessions: Sessions) -> list[int]:
    """How many inboxes each stored chunk of a fan-out has, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(FanoutRow).order_by(FanoutRow.id))
        return [len(row.inboxes) for row in rows]


async def queued(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await jobs.delivery_stats(session))[JobState.QUEUED]


async def test_a_large_fan_out_is_queued_by_the_worker_a_chunk_at_a_time(
    sessions: Sessions,
) -> None:
    community = await factories.create_community(sessions)
    targets = inboxes(MANY)
    await publish(sessions, community, [*targets, targets[0], "not a url"])
    # the activity's transaction wrote no job: the distinct valid inboxes, in chunks
    assert await deliveries(sessions) == []
    assert await stored(sessions) == CHUNKS
    assert await queued(sessions) == MANY  # counted where operators look
    async with sessions() as session:
        assert (await queue_depths(session)).deliveries[JobState.QUEUED] == MANY
        assert (await counts(session, community.id)).deliveries == {"queued": MANY}

    queue = SqlJobQueue(sessions, URLS)
    first = await queue.claim(1, lease_seconds=60)
    assert len(first) == 1
    assert first[0].inbox in targets[: jobs.FANOUT_AT_ONCE]
    # one claim of one job queued one chunk, no more
    assert len(await deliveries(sessions)) == jobs.FANOUT_AT_ONCE
    assert await stored(sessions) == CHUNKS[1:]
    assert await queued(sessions) == MANY

    rest = await queue.claim(10 * MANY, lease_seconds=60)
    assert sorted(job.inbox for job in first + rest) == sorted(targets)  # each once
    assert await stored(sessions) == []
    assert [row.inbox for row in await deliveries(sessions)] == targets  # queued in order
    assert await queue.claim(10, lease_seconds=60) == []


async def test_a_community_s_fan_outs_are_queued_in_the_order_they_came(
    sessions: Sessions,
) -> None:
    community = await factories.create_community(sessions)
    other = await factories.create_community(sessions, "other")
    targets = inboxes(MANY)
    create = await publish(sessions, community, targets)
    delete = await publish(sessions, community, targets[-3:])  # small, but behind the Create
    elsewhere = await publish(sessions, other, targets[-3:])  # another community's: at once
    assert await stored(sessions) == [*CHUNKS, 3]
    async with sessions() as session:
        now = await session.scalars(
            select(ActivityRow.ap_id).join(DeliveryRow, DeliveryRow.activity_id == ActivityRow.id)
        )
        assert set(now) == {elsewhere}

    claimed = await SqlJobQueue(sessions, URLS).claim(10 * MANY, lease_seconds=60)
    assert len(claimed) == MANY + 3 + 3
    async with sessions() as session:
        order = await session.execute(
            select(ActivityRow.ap_id, DeliveryRow.inbox)
            .join(DeliveryRow, DeliveryRow.activity_id == ActivityRow.id)
            .where(ActivityRow.community_id == community.id)
            .order_by(DeliveryRow.id)
        )
        seen = [(ap_id, inbox) for ap_id, inbox in order if inbox in targets[-3:]]
    assert seen == [(create, inbox) for inbox in targets[-3:]] + [
        (delete, inbox) for inbox in targets[-3:]
    ]


async def test_workers_claiming_at_once_queue_each_inbox_once(sessions: Sessions) -> None:
    community = await factories.create_community(sessions)
    targets = inboxes(MANY)
    await publish(sessions, community, targets)
    await publish(sessions, community, inboxes(MANY, host="g"))
    first, second = SqlJobQueue(sessions, URLS), SqlJobQueue(sessions, URLS)
    claims = await asyncio.gather(
        *(queue.claim(jobs.FANOUT_AT_ONCE // 2, 60) for queue in (first, second, first, second))
    )
    claims.append(await first.claim(10 * MANY, 60))
    claimed = [job.inbox for claim in claims for job in claim]
    assert sorted(claimed) == sorted(targets + inboxes(MANY, host="g"))
    assert await stored(sessions) == []


async def test_a_batch_s_large_relay_is_stored_too(sessions: Sessions) -> None:
    community = await factories.create_community(sessions)
    async with sessions.begin() as session:
        fanout.defer(session)
        fanout.add(
            session,
            community_id=community.id,
            ap_json={"id": "https://copub.example/a/1", "type": "Announce"},
            object_ap_id=None,
            public=True,
            inboxes=inboxes(MANY),
        )
    assert await stored(sessions) == CHUNKS
    # the activity gone (its community deleted), its stored fan-out goes with it
    async with sessions.begin() as session:
        await session.execute(delete(CommunityRow).where(CommunityRow.id == community.id))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FanoutRow)) == 0
