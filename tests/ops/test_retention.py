"""Retention (actors/retention.py): only finished rows older than [retention] allows go
(done after done_days, failed after failed_days; work still pending never), in batches of
batch_size; --dry-run counts and deletes nothing; the server purges at start and on."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import retention
from actors.hooks import Purger
from actors.store import social
from actors.store.models import Base, DeliveryRow, InboxItemRow
from actors.store.models_links import NetworkCacheRow
from actors.store.models_values import ValueCacheRow
from actors.store.retention import Cutoffs
from adapters.discourse.models import ForumJobRow
from federation.clock import utcnow
from tests import factories
from tests.conftest import ClientFactory
from tests.flows.copub import run_cli, wait_until

Sessions = async_sessionmaker[AsyncSession]
NOW = utcnow()
KEEP = retention.RetentionSettings()  # 14 days, failed 30


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# (state, age in days, goes?) for each job table; "-" rows of the cache have no error
JOBS = [
    ("done", 20, True), ("done", 10, False), ("failed", 40, True), ("failed", 20, False),
    ("retrying", 100, False), ("queued", 100, False),
]  # fmt: skip
INBOX = [("done", 20, True), ("done", 1, False), ("failed", 40, True), ("failed", 20, False),
         ("pending", 100, False)]  # fmt: skip
CACHE = [("-", 20, True), ("-", 1, False), ("error", 40, True), ("error", 20, False)]
EXPECTED = {"deliveries": 2, "inbox_items": 2, "network_cache": 2, "value_cache": 2,
            "discourse_jobs": 2}  # fmt: skip


async def fill(db: Sessions) -> None:
    """Rows of every purged table, old and new, finished and not."""
    community = await factories.create_community(db, "nightshift")
    async with db.begin() as session:
        activity = await social.insert_activity(
            session, community_id=community.id, object_ap_id=None,
            ap_json={"id": "https://cop.test/c/nightshift/a/1", "type": "Create"},
        )  # fmt: skip
        for n, (state, days, _goes) in enumerate(JOBS):
            session.add(
                DeliveryRow(activity_id=activity.id, community_id=community.id,
                            inbox=f"https://peer.example/inbox/{n}", host="peer.example",
                            state=state, updated_at=ago(days), created_at=ago(days))
            )  # fmt: skip
            session.add(
                ForumJobRow(community_id=community.id, kind="reply", state=state,
                            updated_at=ago(days), created_at=ago(days))
            )  # fmt: skip
        for n, (state, days, _goes) in enumerate(INBOX):
            # the pending one waits for a retry tomorrow: a server's processor leaves it
            retry_at = ago(-1) if state == "pending" else None
            session.add(
                InboxItemRow(activity_id=f"https://peer.example/a/{n}", dedupe_key=f"{n:064}",
                             activity_type="Create", actor_id="https://peer.example/u/a",
                             ap_raw="{}", state=state, received_at=ago(days),
                             locked_until=retry_at)
            )  # fmt: skip
        for n, (kind, days, _goes) in enumerate(CACHE):
            error = "503" if kind == "error" else None
            session.add(
                NetworkCacheRow(actor_id=f"https://peer.example/g/{n}", following=[],
                                error=error, fetched_at=ago(days))
            )  # fmt: skip
            session.add(
                ValueCacheRow(actor_id=f"https://peer.example/g/{n}", stories=[], indicators=[],
                              error=error, fetched_at=ago(days))
            )  # fmt: skip


async def count(db: Sessions, model: type[Base]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def counts(db: Sessions) -> dict[str, int]:
    tables = (DeliveryRow, InboxItemRow, NetworkCacheRow, ValueCacheRow, ForumJobRow)
    return {model.__tablename__: await count(db, model) for model in tables}


async def left(db: Sessions) -> dict[str, list[tuple[str, float]]]:
    """The (state, age in whole days) of the rows kept, per table."""

    def days(at: datetime) -> float:
        return round((NOW - at).total_seconds() / 86400)

    async with db() as session:
        jobs = await session.execute(select(DeliveryRow.state, DeliveryRow.updated_at))
        forum = await session.execute(select(ForumJobRow.state, ForumJobRow.updated_at))
        inbox = await session.execute(select(InboxItemRow.state, InboxItemRow.received_at))
        cache = await session.execute(select(NetworkCacheRow.error, NetworkCacheRow.fetched_at))
        values = await session.execute(select(ValueCacheRow.error, ValueCacheRow.fetched_at))
        return {
            "deliveries": sorted((s, days(at)) for s, at in jobs),
            "discourse_jobs": sorted((s, days(at)) for s, at in forum),
            "inbox_items": sorted((s, days(at)) for s, at in inbox),
            "network_cache": sorted(("error" if e else "-", days(at)) for e, at in cache),
            "value_cache": sorted(("error" if e else "-", days(at)) for e, at in values),
        }


def kept(rows: list[tuple[str, int, bool]]) -> list[tuple[str, float]]:
    return sorted((state, days) for state, days, goes in rows if not goes)


def test_the_plugins_tables_are_purged_too() -> None:
    names = [purger.name for purger in retention.purgers()]
    assert names == ["deliveries", "inbox_items", "network_cache", "value_cache", "discourse_jobs"]


async def test_dry_run_counts_and_deletes_nothing(sessions: Sessions) -> None:
    await fill(sessions)
    before = await counts(sessions)
    found = await retention.count_old(sessions, KEEP, NOW, retention.purgers())
    assert found == EXPECTED
    assert await counts(sessions) == before


async def test_purge_deletes_only_old_finished_rows(sessions: Sessions) -> None:
    await fill(sessions)
    purged = await retention.purge(sessions, KEEP, NOW, retention.purgers())
    assert purged == EXPECTED
    assert await left(sessions) == {
        "deliveries": kept(JOBS), "discourse_jobs": kept(JOBS),
        "inbox_items": kept(INBOX), "network_cache": kept(CACHE), "value_cache": kept(CACHE),
    }  # fmt: skip
    # and a second pass finds nothing more
    assert await retention.purge(sessions, KEEP, NOW, retention.purgers()) == dict.fromkeys(
        EXPECTED, 0
    )


class Recording:
    """A purger that records the size of each batch it deleted."""

    def __init__(self, inner: Purger) -> None:
        self.inner = inner
        self.batches: list[int] = []

    @property
    def name(self) -> str:
        return self.inner.name

    async def count_old(self, session: AsyncSession, cutoffs: Cutoffs) -> int:
        return await self.inner.count_old(session, cutoffs)

    async def purge_batch(self, session: AsyncSession, cutoffs: Cutoffs, limit: int) -> int:
        gone = await self.inner.purge_batch(session, cutoffs, limit)
        self.batches.append(gone)
        return gone


async def test_purge_goes_a_batch_at_a_time(sessions: Sessions) -> None:
    # Given seven deliveries done long ago, besides the mix
    await fill(sessions)
    async with sessions.begin() as session:
        template = await session.scalar(select(DeliveryRow).limit(1))
        assert template is not None
        for n in range(5):
            session.add(
                DeliveryRow(activity_id=template.activity_id, community_id=template.community_id,
                            inbox=f"https://old.example/inbox/{n}", host="old.example",
                            state="done", updated_at=ago(15 + n))
            )  # fmt: skip
    # When retention deletes three rows per transaction
    deliveries = Recording(retention.purgers()[0])
    settings = retention.RetentionSettings(batch_size=3)
    purged = await retention.purge(sessions, settings, NOW, [deliveries])
    # Then the seven went in three batches, the last one short
    assert purged == {"deliveries": 7}
    assert deliveries.batches == [3, 3, 1]
    assert (await left(sessions))["deliveries"] == kept(JOBS)


async def test_copub_purge_dry_run_then_purge(sessions: Sessions, config_file: Path) -> None:
    await fill(sessions)
    before = await counts(sessions)
    out = await run_cli(config_file, "purge", "--dry-run")
    lines = dict(line.split() for line in out.splitlines()[:-1])
    assert lines == {name: str(n) for name, n in EXPECTED.items()}
    assert out.splitlines()[-1].startswith("would delete 10 rows")
    assert await counts(sessions) == before
    out = await run_cli(config_file, "purge")
    assert out.splitlines()[-1].startswith("deleted 10 rows")
    assert await counts(sessions) == {name: before[name] - n for name, n in EXPECTED.items()}


async def test_the_server_purges_where_its_worker_runs(
    sessions: Sessions, database_url: str, make_client: ClientFactory
) -> None:
    # Given old finished rows in the database
    await fill(sessions)
    # When the server starts, its delivery worker and retention with it
    settings = factories.make_settings(database_url, retention={"every_minutes": 60})
    await make_client(settings)

    # Then the first pass deletes them at once
    async def purged() -> bool:
        return await counts(sessions) == {
            "deliveries": 4, "inbox_items": 3, "network_cache": 2, "value_cache": 2,
            "discourse_jobs": 4,
        }  # fmt: skip

    await wait_until(purged, what="the server's first purge")


def test_retention_settings_are_checked() -> None:
    bad: dict[str, Any] = {"done_days": 0, "failed_days": -1, "every_minutes": -5,
                           "batch_size": 0}  # fmt: skip
    found = dict(retention.RetentionSettings(**bad).problems())
    assert set(found) == set(bad)
    assert retention.RetentionSettings().problems() == []
