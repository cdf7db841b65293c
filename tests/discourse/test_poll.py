"""Issue 7, polling fallback: what webhooks missed is caught by the periodic reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discourse.harness import SLUG, adapter, forum_table, snapshot, start_connected
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import RemoteServer

pytestmark = sqlite_only


async def test_reconcile_catches_a_missed_topic_once(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: object,
) -> None:
    forum.seed_topics(category, 40)
    walker = adapter(copub).walker(SLUG)
    # Before any backfill the poller does nothing (old topics must not look new)
    assert (await walker.reconcile()).changed == 0
    await walker.backfill()
    # When a topic is created while the webhook is broken
    forum.hooks.url = None
    await forum.create_topic(
        "Missed by the webhook", "The webhook was down for this one.", user=nora, category=category
    )
    # Then a reconciliation finds it, on the first page, and followers get it
    mark = len(forum.exchanges)
    counts = await walker.reconcile()
    assert (counts.created, counts.updated, counts.deleted) == (1, 0, 0)
    assert [e.path for e in forum.exchanges[mark:] if e.path.startswith("/c/")] == [
        "/c/night-shift/7.json"
    ]
    [create] = await remote.wait_for(lambda got: [d for d in got if d.ok and d.type == "Create"])
    assert "Missed by the webhook" in create.activity["object"]["content"]
    # And the next reconciliation changes nothing
    before = await snapshot(copub)
    assert (await walker.reconcile()).changed == 0
    assert await snapshot(copub) == before


@pytest.fixture
async def polling_copub(
    database_url: str, tmp_path: Path, forum: FakeDiscourse, category: Category
) -> AsyncIterator[Copub]:
    table = forum_table(forum, category, poll_interval_seconds=0.2)
    server = await start_connected(database_url, tmp_path, table)  # no webhook at all
    try:
        yield server
    finally:
        await server.server.close()


async def test_the_server_polls_on_its_own(
    polling_copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
) -> None:
    copub = polling_copub
    await copub.create_community(SLUG)
    await follow(remote, remote.person("alice"), copub, SLUG)
    await copub.cli("discourse", "sync", SLUG)
    topic = await forum.create_topic(
        "Found by polling", "Nobody sent a webhook for this.", user=nora, category=category
    )
    [create] = await remote.wait_for(lambda got: [d for d in got if d.ok and d.type == "Create"])
    assert "Found by polling" in create.activity["object"]["content"]
    await forum.reply(topic, "And a reply found by polling too.", user=nora)
    await remote.wait_for(lambda got: len([d for d in got if d.ok and d.type == "Create"]) == 2)
