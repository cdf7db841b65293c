"""``copub deliveries retry [--host H | --id N]``: a failing peer's waiting deliveries are due
now and its failed ones get one more try; the others are left alone; a running worker
sends them at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import social
from actors.store.models import DeliveryRow
from actors.web.workers import DELIVERY_WORKER
from federation.clock import utcnow
from federation.delivery.retry import RetryPolicy
from tests import factories
from tests.flows.copub import Copub, follow, run_cli, start_copub, wait_until
from tests.flows.remote import Delivery, RemoteServer

Sessions = async_sessionmaker[AsyncSession]
LATER = utcnow() + timedelta(hours=3)


async def queue(db: Sessions, jobs: list[tuple[str, str]]) -> list[int]:
    """(host, state) deliveries of one activity, not due for hours; their ids."""
    community = await factories.create_community(db, "nightshift")
    async with db.begin() as session:
        activity = await social.insert_activity(
            session, community_id=community.id, object_ap_id=None,
            ap_json={"id": "https://cop.test/c/nightshift/a/1", "type": "Create"},
        )  # fmt: skip
        rows = [
            DeliveryRow(activity_id=activity.id, community_id=community.id,
                        inbox=f"https://{host}/inbox/{n}", host=host, state=state,
                        attempts=0 if state == "queued" else 3, next_try_at=LATER)
            for n, (host, state) in enumerate(jobs)
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def states(db: Sessions) -> dict[int, tuple[str, bool]]:
    """Each delivery's state and whether it is due now."""
    now = utcnow()
    async with db() as session:
        rows = await session.execute(
            select(DeliveryRow.id, DeliveryRow.state, DeliveryRow.next_try_at)
        )
        return {id_: (str(state), at <= now) for id_, state, at in rows}


MIX = [("down.example", "retrying"), ("down.example", "failed"), ("down.example", "queued"),
       ("down.example", "done"), ("up.example", "retrying"), ("up.example", "failed")]  # fmt: skip


async def test_retry_host_makes_its_deliveries_due_now(
    sessions: Sessions, config_file: Path
) -> None:
    ids = await queue(sessions, MIX)
    out = await run_cli(config_file, "deliveries", "retry", "--host", "DOWN.example")
    assert out.strip() == "3 deliveries to down.example due now (2 waiting, 1 failed before)"
    assert await states(sessions) == dict(zip(ids, [
        ("retrying", True), ("retrying", True), ("queued", True), ("done", False),
        ("retrying", False), ("failed", False),
    ], strict=True))  # fmt: skip


async def test_retry_one_delivery_or_all(sessions: Sessions, config_file: Path) -> None:
    ids = await queue(sessions, MIX)
    out = await run_cli(config_file, "deliveries", "retry", "--id", str(ids[5]))
    assert out.strip() == "1 deliveries due now (0 waiting, 1 failed before)"
    assert (await states(sessions))[ids[5]] == ("retrying", True)
    assert (await states(sessions))[ids[4]] == ("retrying", False)
    out = await run_cli(config_file, "deliveries", "retry")
    assert out.strip() == "5 deliveries due now (4 waiting, 1 failed before)"
    assert all(due for id_, (state, due) in (await states(sessions)).items() if id_ != ids[3])


async def test_retry_refuses_what_it_cannot_do(sessions: Sessions, config_file: Path) -> None:
    ids = await queue(sessions, MIX)
    done = await run_cli(config_file, "deliveries", "retry", "--id", str(ids[3]), ok=False)
    assert f"delivery {ids[3]} is done or does not exist" in done
    both = await run_cli(
        config_file, "deliveries", "retry", "--id", "1", "--host", "up.example", ok=False
    )
    assert "give --host or --id, not both" in both
    # the listing is still `copub deliveries`
    listing = await run_cli(config_file, "deliveries", "--state", "failed")
    assert "https://up.example/inbox/5" in listing


def create_answered(status: int) -> Any:
    def check(got: list[Delivery]) -> list[Delivery]:
        return [d for d in got if d.type == "Create" and d.status == status]

    return check


async def test_a_running_worker_sends_the_retried_queue_at_once(
    database_url: str, tmp_path: Path, remote: RemoteServer
) -> None:
    # A worker that would look for due jobs once a minute: the command wakes it (on
    # PostgreSQL by NOTIFY, as workers of a fleet are told; on SQLite through its socket)
    copub = await start_copub(database_url, tmp_path, delivery={"poll_interval_seconds": 60})
    try:
        await _retried_at_once(copub, remote)
    finally:
        await copub.server.close()
    assert not copub.errors


async def _retried_at_once(copub: Copub, remote: RemoteServer) -> None:
    # Given alice follows, and her server answered the Create with 503
    await copub.create_community("nightshift")
    await follow(remote, remote.person("alice"), copub, "nightshift")
    copub.app[DELIVERY_WORKER].policy = RetryPolicy(base_seconds=3600, jitter=0.0)
    remote.respond("/inbox", 503)
    await copub.publish("nightshift", "Late", "Waits an hour for its next try.")
    await remote.wait_for(create_answered(503))

    async def waiting() -> bool:
        async with copub.sessions() as session:
            states = await session.scalars(
                select(DeliveryRow.state).where(DeliveryRow.host == remote.domain)
            )
            return "retrying" in set(states)

    await wait_until(waiting, what="the Create waiting for its retry in an hour")
    # When the operator retries that server now
    out = await copub.cli("deliveries", "retry", "--host", remote.base_url)
    assert out.startswith(f"1 deliveries to {remote.domain} due now")
    # Then the worker delivers it at once
    await remote.wait_for(create_answered(202))
