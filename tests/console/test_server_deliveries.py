"""The admins' delivery queue (counts by state, each peer's health, "retry now" for a
failing peer, its circuit breaker when the worker runs in the server) and the audit log
(who, what, when, from where; a page at a time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.settings import Settings
from actors.store import audit as audit_store
from actors.store import social
from actors.store.models import DeliveryRow
from actors.store.models_accounts import AuditRow
from actors.web.keys import SESSIONS
from actors.web.workers import DELIVERY_WORKER
from federation.clock import utcnow
from tests import factories
from tests.conftest import ClientFactory
from tests.console.helpers import FAST_HASHING, Person, admin_link, person, set_up

Sessions = async_sessionmaker[AsyncSession]
LATER = timedelta(hours=3)
DOWN, UP, DONE = "down.example", "up.example", "done.example"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """No delivery worker in the server: the queue stays as the test leaves it."""
    return factories.make_settings(
        database_url, console=FAST_HASHING, delivery={"in_process_worker": False}
    )


async def queue(db: Sessions, community: Community, jobs: list[dict[str, Any]]) -> None:
    """One activity and a delivery job of it for each of ``jobs`` (inbox from its host)."""
    async with db.begin() as session:
        activity = await social.insert_activity(
            session, community_id=community.id, object_ap_id=None,
            ap_json={"id": "https://cop.test/c/nightshift/a/1", "type": "Create"},
        )  # fmt: skip
        for n, job in enumerate(jobs):
            fields = {"attempts": 0, "next_try_at": utcnow() + LATER, **job}
            session.add(
                DeliveryRow(
                    activity_id=activity.id, community_id=community.id,
                    inbox=f"https://{job['host']}/inbox/{n}", **fields,
                )
            )  # fmt: skip


async def jobs_of(db: Sessions, host: str) -> list[DeliveryRow]:
    async with db() as session:
        rows = await session.scalars(
            select(DeliveryRow).where(DeliveryRow.host == host).order_by(DeliveryRow.id)
        )
        return list(rows)


def text_of(html: str) -> str:
    main = html[html.find("<h1>") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).replace(" ,", ",")


async def admin(browser: Person, db: Sessions) -> Person:
    page = await set_up(browser, await admin_link(db, "ada"))
    assert page.status == 200, page.text
    return browser


FAILING: list[dict[str, Any]] = [
    {"host": DOWN, "state": "retrying", "attempts": 3, "last_status": 503,
     "last_error": "Service Unavailable: the server is\n overloaded",
     "updated_at": datetime(2026, 1, 2, 10, 0, tzinfo=UTC)},
    {"host": DOWN, "state": "retrying", "attempts": 2, "last_status": 502,
     "last_error": "an older error", "updated_at": datetime(2026, 1, 2, 9, 0, tzinfo=UTC)},
    {"host": DOWN, "state": "failed", "attempts": 17, "last_status": 503,
     "last_error": "gave up", "updated_at": datetime(2026, 1, 1, 9, 0, tzinfo=UTC)},
    {"host": UP, "state": "queued"},
    {"host": DONE, "state": "done", "attempts": 1, "last_status": 202},
]  # fmt: skip


async def test_each_peer_with_its_health(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await queue(db, nightshift, FAILING)
    await admin(browser, db)
    page = await browser.get("/console/server/deliveries")
    assert page.status == 200
    text = text_of(page.text)
    assert "Queued 1 Retrying 2 Done 1 Failed 1" in text
    assert text.index(DOWN) < text.index(UP)
    assert DONE not in text
    assert f"{DOWN} Waiting 0 queued, 2 retrying, 1 failed" in text
    assert "Last try 2026-01-02 10:00 UTC · answered 503" in text
    assert "Last error Service Unavailable: the server is overloaded" in text
    assert f"{UP} Waiting 1 queued, 0 retrying, 0 failed" in text
    assert f"Retry {DOWN} now" in text
    assert f"Retry {UP} now" not in text
    assert "runs in another process" in text
    assert "Circuit" not in text


async def test_retry_now_makes_a_peers_deliveries_due(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await queue(db, nightshift, FAILING)
    await admin(browser, db)
    await browser.get("/console/server/deliveries")
    before_up = [(j.state, j.next_try_at) for j in await jobs_of(db, UP)]
    start = utcnow()
    page = await browser.post("/console/server/deliveries/retry", {"host": DOWN})
    assert page.status == 200
    assert f"3 deliveries to {DOWN} are due now." in text_of(page.text)
    down = await jobs_of(db, DOWN)
    assert [j.state for j in down] == ["retrying", "retrying", "retrying"]
    assert all(start <= j.next_try_at <= utcnow() for j in down)
    assert [j.attempts for j in down] == [3, 2, 17]  # the policy still counts them
    assert [(j.state, j.next_try_at) for j in await jobs_of(db, UP)] == before_up
    async with db() as session:
        [entry] = await audit_store.entries(session, limit=1)
    assert (entry.actor, entry.action) == ("ada", "deliveries.retry")
    assert entry.detail == f"{DOWN}: 2 waiting, 1 failed"

    page = await browser.post("/console/server/deliveries/retry", {"host": "nobody.example"})
    assert page.status == 400
    assert "No delivery to nobody.example" in page.text
    page = await browser.post("/console/server/deliveries/retry", {"host": "<b>"})
    assert page.status == 400
    assert "Which server?" in page.text
    async with db() as session:
        assert (await audit_store.entries(session, limit=1))[0].id == entry.id


async def test_the_circuit_of_a_peer_and_a_probe_now(
    make_client: ClientFactory, database_url: str
) -> None:
    """With the worker in the server: a peer's open circuit is shown, and "retry now"
    lets the next delivery through as its probe."""
    settings = factories.make_settings(database_url, console=FAST_HASHING)
    client: TestClient[Any, Any] = await make_client(settings)
    db: Sessions = client.app[SESSIONS]
    nightshift = await factories.create_community(db, "nightshift")
    dead = "127.0.0.1:9"  # nothing listens on the discard port
    await queue(db, nightshift, [{"host": dead, "state": "failed", "attempts": 5}])
    worker = client.app[DELIVERY_WORKER]
    for _ in range(worker.breakers.policy.failures):
        worker.breakers.record(dead, True, worker.clock(), probe=False)
    browser = await admin(person(client, settings), db)

    text = text_of((await browser.get("/console/server/deliveries")).text)
    assert "Circuit open (paused) until" in text
    assert f"after {worker.breakers.policy.failures} failures in a row" in text
    assert "runs in another process" not in text
    page = await browser.post("/console/server/deliveries/retry", {"host": dead})
    assert f"1 deliveries to {dead} are due now." in text_of(page.text)
    assert "Its circuit was open: one goes first as a probe" in text_of(page.text)


async def test_the_audit_log_a_page_at_a_time(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await admin(browser, db)  # writes account.setup
    async with db.begin() as session:
        for n in range(60):
            await audit_store.add_entry(
                session, at=datetime(2026, 3, 1, 8, n, tzinfo=UTC), actor="alice",
                action="story.publish", community_id=nightshift.id, community_slug="nightshift",
                detail=f"story {n}", address="192.0.2.7",
            )  # fmt: skip
    written = await audit_count(db)
    page = await browser.get("/console/server/audit")
    assert page.status == 200
    text = text_of(page.text)
    assert text.count("story.publish") == 50
    assert text.index("story 59") < text.index("story 58")  # newest first
    assert (
        "2026-03-01 08:59:00 UTC · alice · story.publish · in nightshift story 59 from 192.0.2.7"
        in text
    )
    assert "story 9 " not in text
    assert "account.setup" not in text
    older = re.search(r'href="(/console/server/audit\?before=\d+)" rel="next"', page.text)
    assert older
    text = text_of((await browser.get(older.group(1))).text)
    assert text.count("story.publish") == 10
    assert "story 9 " in text
    assert "story 10 " not in text
    assert "account.setup" in text
    assert "Older entries" not in text
    assert await audit_count(db) == written  # reading the log writes nothing


async def audit_count(db: Sessions) -> int:
    async with db() as session:
        return len(list(await session.scalars(select(AuditRow.id))))
