"""Delivery health per peer (actors.store.peers): counts by state per host, the most
failing first, the latest try's answer; one community's or all; and "retry now" for one
host, which leaves the others alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.store import peers, social
from actors.store.models import DeliveryRow
from federation.clock import utcnow
from tests import factories

Sessions = async_sessionmaker[AsyncSession]
T = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


async def queue(db: Sessions, community: Community, jobs: list[dict[str, Any]]) -> None:
    async with db.begin() as session:
        activity = await social.insert_activity(
            session, community_id=community.id, object_ap_id=None,
            ap_json={"id": f"https://cop.test/c/{community.slug}/a/1", "type": "Create"},
        )  # fmt: skip
        for n, job in enumerate(jobs):
            fields = {"attempts": 0, "next_try_at": T + timedelta(hours=1), **job}
            session.add(
                DeliveryRow(activity_id=activity.id, community_id=community.id,
                            inbox=f"https://{job['host']}/inbox/{n}", **fields)
            )  # fmt: skip


async def test_each_host_with_its_counts_and_latest_answer(sessions: Sessions) -> None:
    nightshift = await factories.create_community(sessions, "nightshift")
    pharmacy = await factories.create_community(sessions, "pharmacy")
    await queue(sessions, nightshift, [
        {"host": "down.example", "state": "retrying", "attempts": 2, "last_status": 502,
         "last_error": "older", "updated_at": T},
        {"host": "down.example", "state": "failed", "attempts": 9, "last_status": 503,
         "last_error": "newest", "updated_at": T + timedelta(minutes=5)},
        {"host": "busy.example", "state": "queued", "next_try_at": T},
        {"host": "busy.example", "state": "queued", "next_try_at": T + timedelta(minutes=1)},
        {"host": "fine.example", "state": "done", "attempts": 1},
    ])  # fmt: skip
    await queue(sessions, pharmacy, [{"host": "other.example", "state": "retrying",
                                      "attempts": 1, "updated_at": T}])  # fmt: skip
    async with sessions() as session:
        everyone = await peers.peer_health(session, limit=10)
        theirs = await peers.peer_health(session, limit=10, community_id=nightshift.id)
        first = await peers.peer_health(session, limit=1)
    assert [p.host for p in everyone] == ["down.example", "other.example", "busy.example"]
    down, _other, busy = everyone
    assert (down.queued, down.retrying, down.failed, down.failing) == (0, 1, 1, True)
    assert (down.last_try_at, down.last_status, down.last_error) == (
        T + timedelta(minutes=5), 503, "newest",
    )  # fmt: skip
    assert down.next_try_at == T + timedelta(hours=1)  # of the one still pending
    assert (busy.queued, busy.failing, busy.next_try_at, busy.last_try_at) == (2, False, T, None)
    assert [p.host for p in theirs] == ["down.example", "busy.example"]
    assert [p.host for p in first] == ["down.example"]


async def test_retry_now_makes_one_hosts_deliveries_due(sessions: Sessions) -> None:
    nightshift = await factories.create_community(sessions, "nightshift")
    await queue(sessions, nightshift, [
        {"host": "down.example", "state": "retrying", "attempts": 2},
        {"host": "down.example", "state": "failed", "attempts": 9},
        {"host": "down.example", "state": "done", "attempts": 1},
        {"host": "up.example", "state": "retrying", "attempts": 1},
    ])  # fmt: skip
    now = utcnow()
    async with sessions.begin() as session:
        retried = await peers.retry_host_now(session, "down.example", now)
    assert (retried.waiting, retried.failed, retried.total) == (1, 1, 2)
    async with sessions() as session:
        rows = (await session.scalars(select(DeliveryRow).order_by(DeliveryRow.id))).all()
    assert [(r.host, r.state, r.attempts, r.next_try_at == now) for r in rows] == [
        ("down.example", "retrying", 2, True),
        ("down.example", "retrying", 9, True),
        ("down.example", "done", 1, False),
        ("up.example", "retrying", 1, False),
    ]
    async with sessions.begin() as session:
        nothing = await peers.retry_host_now(session, "nobody.example", now)
    assert nothing.total == 0
