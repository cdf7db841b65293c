"""Polling fallback: what webhooks missed is caught by the periodic reconciliation, edits
that bump nothing and deletes included, within a bounded number of polls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from actors.store.models import ActivityRow
from adapters.discourse.models import ForumPostRow
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
    forum.rate_limit = None  # a backfill and three polls in a second: a real forum would wait
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


async def test_without_webhooks_edits_and_deletes_are_caught_within_a_few_polls(
    copub: Copub, forum: FakeDiscourse, category: Category, community: str
) -> None:
    forum.rate_limit = None
    forum.hooks.url = None  # no webhook at all: the poller is all there is
    # Given 25 mirrored topics of 3 posts (the defaults: 10 topics read again a poll,
    # among the 100 newest, so every one within 3 polls)
    topics = forum.seed_topics(category, 25, posts=3)
    walker = adapter(copub).walker(SLUG)
    await walker.backfill()
    # When, with no topic bumped: a reply and a first post are edited, a reply in the
    # middle of a topic is deleted, and a whole topic is deleted
    edited_reply = forum.posts[topics[3].post_ids[1]]
    edited_first = forum.posts[topics[12].post_ids[0]]
    deleted_reply = forum.posts[topics[17].post_ids[1]]
    await forum.edit(edited_reply, "The reply, corrected later without a bump.")
    await forum.edit(edited_first, "The story, corrected later without a bump.")
    await forum.delete_post(deleted_reply)
    await forum.delete_topic(topics[21])
    expected = {
        ("Update", await object_of(copub, edited_reply.id)),
        ("Update", await object_of(copub, edited_first.id)),
        ("Delete", await object_of(copub, deleted_reply.id)),
        ("Delete", await object_of(copub, forum.posts[topics[21].post_ids[0]].id)),
    }
    # Then polls catch each of them within 3 passes, reading at most 10 topics a pass
    for _ in range(3):
        mark = len(forum.exchanges)
        await walker.reconcile()
        fetched = [e.path for e in forum.exchanges[mark:] if re.match(r"/t/\d+\.json", e.path)]
        assert len(fetched) <= 10, fetched
    assert expected <= await published(copub)
    # And once caught, nothing is published again
    before = await published(copub)
    for _ in range(3):
        assert (await walker.reconcile()).changed == 0
    assert await published(copub) == before


async def object_of(copub: Copub, post_id: int) -> str:
    async with copub.sessions() as session:
        link = await session.scalar(select(ForumPostRow).where(ForumPostRow.post_id == post_id))
    assert link is not None
    return link.object_ap_id


async def published(copub: Copub) -> set[tuple[str, str | None]]:
    async with copub.sessions() as session:
        rows = await session.execute(select(ActivityRow.ap_type, ActivityRow.object_ap_id))
    return {(kind, object_id) for kind, object_id in rows if kind in ("Update", "Delete")}
