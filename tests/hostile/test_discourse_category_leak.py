"""Attack class: a forum category leaking into the community.

The connected Discourse forum has more than the configured category: a public "General",
a read-restricted "Staff" the bot account can see (it is a moderator), topics moved from
one to another. Discourse sends webhooks for every category the webhook is not filtered to,
its API answers the bot for every category it may see, and a moved topic keeps its id and
its posts. Whatever the path (webhook, poll, backfill) and however the category is
configured (its slug, as the README shows, or its id), the community publishes the
configured category alone: a topic of another category is never published, a topic moved
out is withdrawn (a ``Delete``) and nothing of it is published while it is out, and a
category that cannot be resolved publishes nothing at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actors.store.models import ActivityRow
from adapters.discourse.backfill import CategoryWalker
from adapters.discourse.models import ForumJobRow, ForumPostRow
from tests.discourse.harness import (
    SLUG,
    adapter,
    forum_table,
    jobs_settled,
    prepare_forum,
    start_connected,
)
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, Topic, User
from tests.flows.copub import Copub, follow, sqlite_only, wait_until
from tests.flows.remote import Person, RemoteServer

pytestmark = sqlite_only

ITEM_ACTIVITIES = ("Create", "Update", "Delete")
RECHECK = {"recheck_topics_per_poll": 2, "recheck_recent_topics": 10}
POLL_PASSES = 5  # recheck_recent_topics / recheck_topics_per_poll: every topic seen again


@dataclass
class World:
    forum: FakeDiscourse
    copub: Copub
    remote: RemoteServer
    alice: Person
    ours: Category
    general: Category
    staff: Category
    nora: User

    @property
    def walker(self) -> CategoryWalker:
        return adapter(self.copub).walker(SLUG)

    async def settle(self) -> None:
        await self.forum.hooks.settle()
        await jobs_settled(self.copub)

    async def topic(self, title: str, category: Category, *, webhooks: bool = True) -> Topic:
        return await self.forum.create_topic(
            title, f"{title}: what happened, told at length.", user=self.nora,
            category=category, webhooks=webhooks,
        )  # fmt: skip

    async def published(self) -> list[tuple[str, int | None]]:
        """(type, forum topic id) of every Create, Update and Delete the community stored
        (its outbox, whether or not followers were sent it), in order."""
        query = (
            select(ActivityRow.ap_type, ForumPostRow.topic_id)
            .join(ForumPostRow, ForumPostRow.object_ap_id == ActivityRow.object_ap_id, isouter=True)
            .where(ActivityRow.ap_type.in_(ITEM_ACTIVITIES))
            .order_by(ActivityRow.id)
        )
        async with self.copub.sessions() as session:
            return [(kind, topic) for kind, topic in await session.execute(query)]

    async def published_topics(self) -> set[int | None]:
        return {topic for _, topic in await self.published()}

    def delivered_topics(self) -> set[int]:
        """The forum topics whose items reached alice, by the object's forum URL."""
        found = set()
        for activity in self.remote.activities():
            obj = activity.get("object")
            url = obj.get("url") if isinstance(obj, dict) else None
            if isinstance(url, str) and "/t/" in url:
                found.add(int(url.split("/t/", 1)[1].split("/")[1]))
        return found


Connect = Callable[..., Awaitable[World]]


@pytest.fixture(params=["slug", "id"])
async def connect(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[Connect]:
    """``await connect(**table options)``: copub connected to a forum with three categories
    (the configured one by slug or by id), with alice following the community."""
    servers: list[Copub] = []
    async with FakeDiscourse(rate_limit=None) as forum, RemoteServer() as remote:
        ours, nora = prepare_forum(forum)
        general = forum.add_category("general", "General")
        staff = forum.add_category("staff", "Staff", read_restricted=True)  # the bot sees it

        async def make(*, webhooks: bool = True, **options: Any) -> World:
            default: str | Category = "night-shift" if request.param == "slug" else ours
            table = forum_table(forum, options.pop("category", default), **options)
            copub = await start_connected(
                database_url, tmp_path, table, forum if webhooks else None
            )
            servers.append(copub)
            await copub.create_community(SLUG)
            alice = remote.person("alice")
            await follow(remote, alice, copub, SLUG)
            return World(forum, copub, remote, alice, ours, general, staff, nora)

        try:
            yield make
        finally:
            for server in servers:
                await server.server.close()
    for server in servers:
        assert not server.errors, server.errors


async def test_webhooks_publish_only_the_configured_category(connect: Connect) -> None:
    w = await connect()
    # Given topics, replies and edits in every category the bot can see
    here = await w.topic("Insulin at 3 am", w.ours)
    for category in (w.general, w.staff):
        topic = await w.topic(f"Elsewhere in {category.name}", category)
        reply = await w.forum.reply(topic, "A reply that must stay in its category.", user=w.nora)
        await w.forum.edit(reply, "A reply, edited, that must stay in its category.")
    await w.settle()
    # Then only the configured category's topic was published, and only it reached alice
    assert await w.published_topics() == {here.id}
    await w.remote.wait_for(lambda got: [d for d in got if d.ok and d.type == "Create"])
    assert w.delivered_topics() == {here.id}


async def test_a_topic_moved_into_a_restricted_category_is_withdrawn_and_stays_silent(
    connect: Connect,
) -> None:
    w = await connect()
    topic = await w.topic("Moving to Staff", w.ours)
    await w.settle()
    # When a moderator moves it into the read-restricted Staff category
    await w.forum.move_topic(topic, w.staff)
    await w.settle()
    # And the conversation goes on there: a reply, then its edit
    reply = await w.forum.reply(topic, "Said among staff only, after the move.", user=w.nora)
    await w.forum.edit(reply, "Said among staff only, after the move, edited.")
    await w.settle()
    # Then followers got its Create, then its Delete, and nothing after it
    assert await w.published() == [("Create", topic.id), ("Delete", topic.id)]
    await w.remote.wait_for(lambda got: [d for d in got if d.ok and d.type == "Delete"])
    assert [a["type"] for a in w.remote.activities() if a["type"] != "Accept"] == [
        "Create",
        "Delete",
    ]


async def test_a_lost_move_webhook_is_caught_by_the_next_post_event(connect: Connect) -> None:
    w = await connect()
    topic = await w.topic("Moved while the webhook was down", w.ours)
    await w.settle()
    # When the topic is moved into Staff and the webhook about it is lost
    url, w.forum.hooks.url = w.forum.hooks.url, None
    await w.forum.move_topic(topic, w.staff)
    w.forum.hooks.url = url
    # And a reply is posted there (its webhook says the topic's category is Staff)
    await w.forum.reply(topic, "Said among staff only, after the move.", user=w.nora)
    await w.settle()
    # Then the reply is not published and the topic is withdrawn
    assert await w.published() == [("Create", topic.id), ("Delete", topic.id)]


async def test_polling_publishes_only_the_configured_category(connect: Connect) -> None:
    w = await connect(webhooks=False, **RECHECK)
    moving = await w.topic("Mirrored, then moved", w.ours, webhooks=False)
    await w.walker.backfill()
    # Given new topics in every category, and the mirrored topic moved into Staff and
    # replied to there, with no webhook at all
    new = await w.topic("New in the category", w.ours, webhooks=False)
    for category in (w.general, w.staff):
        await w.topic(f"Elsewhere in {category.name}", category, webhooks=False)
    await w.forum.move_topic(moving, w.staff, webhooks=False)
    await w.forum.reply(moving, "Said among staff only, after the move.", user=w.nora)
    # When the poller runs as often as it takes to look at every topic again
    for _ in range(POLL_PASSES):
        await w.walker.reconcile()
    # Then the new topic is published, the moved one withdrawn, nothing else
    assert await w.published() == [
        ("Create", moving.id),  # the backfill, quietly
        ("Create", new.id),
        ("Delete", moving.id),
    ]


async def test_backfill_publishes_only_the_configured_category(connect: Connect) -> None:
    w = await connect(webhooks=False)
    kept = await w.topic("Stays in the category", w.ours, webhooks=False)
    moving = await w.topic("Moves into Staff later", w.ours, webhooks=False)
    for category in (w.general, w.staff):
        await w.topic(f"Elsewhere in {category.name}", category, webhooks=False)
    await w.copub.cli("discourse", "sync", SLUG)
    assert await w.published_topics() == {kept.id, moving.id}
    # When a topic moves into Staff, is replied to there, and the backfill runs again
    await w.forum.move_topic(moving, w.staff, webhooks=False)
    await w.forum.reply(moving, "Said among staff only, after the move.", user=w.nora)
    out = await w.copub.cli("discourse", "sync", SLUG, "--full")
    # Then the moved topic is withdrawn, and nothing of Staff or General is published
    assert "1 gone" in out
    published = await w.published()
    assert sorted(published[:2]) == [("Create", kept.id), ("Create", moving.id)]
    assert published[2:] == [("Delete", moving.id)]


async def test_no_path_publishes_another_category(connect: Connect) -> None:
    w = await connect(**RECHECK)
    ours: set[int] = set()  # topics that were in the configured category when published
    # The forum before copub: topics in every category, imported by the backfill
    ours.add((await w.topic("Old story", w.ours, webhooks=False)).id)
    await w.topic("Old general", w.general, webhooks=False)
    await w.topic("Old staff", w.staff, webhooks=False)
    await w.copub.cli("discourse", "sync", SLUG)
    # Live, through webhooks: new topics everywhere, one moved in, one moved out
    live = await w.topic("Live story", w.ours)
    ours.add(live.id)
    joining = await w.topic("Joins the category", w.general)
    await w.topic("Live staff", w.staff)
    await w.settle()
    await w.forum.move_topic(joining, w.ours)
    ours.add(joining.id)
    await w.forum.move_topic(live, w.staff)
    await w.forum.reply(live, "Staff only, after the move.", user=w.nora)
    await w.settle()
    # Webhooks lost: only the poller and a full backfill can see what happens now
    w.forum.hooks.url = None
    polled = await w.topic("Polled story", w.ours)
    ours.add(polled.id)
    await w.topic("Polled staff", w.staff)
    await w.forum.move_topic(joining, w.general)
    await w.forum.reply(joining, "Back in General, after the move.", user=w.nora)
    for _ in range(POLL_PASSES):
        await w.walker.reconcile()
    await w.copub.cli("discourse", "sync", SLUG, "--full")
    # Then exactly the topics that were in the category were ever published
    published = await w.published()
    assert {topic for _, topic in published} == ours
    # And each topic that left it was withdrawn last, with nothing published after it
    for left in (live.id, joining.id):
        about = [kind for kind, topic in published if topic == left]
        assert about[-1] == "Delete", (left, about)
        assert about.count("Delete") == len([k for k in about if k == "Create"]), about


async def test_an_unresolvable_category_publishes_nothing(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    w = await connect(category="no-such-category")

    async def said_at_start() -> bool:
        return any(
            r.name == "adapters.discourse.adapter" and "'no-such-category'" in r.getMessage()
            for r in caplog.records
            if r.levelname == "ERROR"
        )

    # The category is looked up at start, and the error says so
    await wait_until(said_at_start, 15, "the start-time error about the category")
    # Given webhooks about topics in the categories the bot can see
    for category in (w.ours, w.general, w.staff):
        await w.topic(f"A topic in {category.name}", category)
    await w.settle()
    # Then nothing is published; the events wait, each saying why
    assert await w.published() == []
    async with w.copub.sessions() as session:
        jobs = list(await session.scalars(select(ForumJobRow)))
    assert jobs
    assert {j.state for j in jobs} == {"retrying"}
    assert all("no-such-category" in (j.last_error or "") for j in jobs)
    # And the backfill refuses, naming the category
    out = await w.copub.cli("discourse", "sync", SLUG, ok=False)
    assert "no-such-category" in out
    assert await w.published() == []
