"""Backfill: `copub discourse sync` imports the category once, quietly, resumably."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from actors.store.models import ActivityRow, DeliveryRow, ObjectRow
from adapters.discourse.models import ForumPostRow, ForumTopicRow
from tests.discourse.harness import (
    SLUG,
    adapter,
    count_rows,
    forum_table,
    jobs_settled,
    snapshot,
    start_connected,
)
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer


def requests_of(forum: FakeDiscourse, start: int = 0) -> list[str]:
    return [f"{e.method} {e.path} {e.status}" for e in forum.exchanges[start:]]


async def test_backfill_300_topics_twice_with_a_429_creates_nothing_twice(
    copub: Copub, forum: FakeDiscourse, category: Category, follower: Person
) -> None:
    forum.rate_limit = None  # a real forum would take six minutes
    # Given 300 topics in the category, every 30th with 65 posts, the others with 3
    forum.seed_topics(category, 300, posts=3, long_every=30, long_posts=65)
    expected_posts = 290 * 3 + 10 * 65
    # And the forum answers one request in the middle with 429 (wait 0.05 s)
    forum.fail_next(429, wait_seconds=0.05, after=170)
    # When the admin runs the backfill
    out = await copub.cli("discourse", "sync", SLUG)
    # Then every topic and post is mirrored once
    assert f"synced 300 topics: 300 fetched, 0 gone; items {expected_posts} created" in out
    assert "waited 1 times for its rate limit" in out
    assert "followers were not notified" in out
    assert [e.status for e in forum.exchanges].count(429) == 1
    posts_json = [e for e in forum.exchanges if e.path.endswith("/posts.json") and e.status == 200]
    assert len(posts_json) == 10 * 3  # 45 more posts of each long topic, 20 at a time
    first = await snapshot(copub)
    assert first["links"] == first["objects"] == expected_posts
    assert await count_rows(copub, ForumTopicRow) == 300
    assert await count_rows(copub, ObjectRow, ObjectRow.kind == "story") == 300
    # And followers were not flooded: the Creates are in the outbox, not delivered
    assert await count_rows(copub, ActivityRow, ActivityRow.ap_type == "Create") == expected_posts
    assert await copub.deliveries_to(follower_inbox(follower), "Create") == 0
    status, outbox = await copub.get(copub.urls.community_outbox(SLUG))
    assert status == 200
    assert outbox["totalItems"] >= 300
    # When it runs again
    mark = len(forum.exchanges)
    out = await copub.cli("discourse", "sync", SLUG)
    # Then nothing new exists, and only the listing was read (10 pages of 30)
    assert "synced 300 topics: 0 fetched, 0 gone; items 0 created, 0 updated" in out
    assert await snapshot(copub) == first
    pages = [r for r in requests_of(forum, mark) if re.match(r"GET /c/night-shift/\d+\.json", r)]
    assert len(pages) == 10
    assert not [r for r in requests_of(forum, mark) if r.startswith("GET /t/")]


def follower_inbox(person: Person) -> str:
    return person.base_url + "/inbox"


@sqlite_only
async def test_interrupted_backfill_resumes_where_it_stopped(
    copub: Copub, forum: FakeDiscourse, category: Category, community: str
) -> None:
    forum.rate_limit = None
    forum.seed_topics(category, 95, posts=2)
    # Given the forum goes down (20 answers 503 in a row) while the backfill reads page 3
    for n in range(20):
        forum.fail_next(503, after=70 if n == 0 else 0)
    out = await copub.cli("discourse", "sync", SLUG, ok=False)
    assert "Oops" in out
    assert "copub discourse check nightshift" in out
    done = await count_rows(copub, ForumTopicRow)
    assert 30 <= done < 95
    # When the forum is back and the admin runs it again
    forum.recover()
    out = await copub.cli("discourse", "sync", SLUG)
    # Then it resumes at the page it had not finished, and everything is there once
    assert "(resumed at page " in out
    assert await count_rows(copub, ForumTopicRow) == 95
    assert await count_rows(copub, ForumPostRow) == 190
    assert await count_rows(copub, ObjectRow) == 190
    # And a third run from the start changes nothing
    before = await snapshot(copub)
    await copub.cli("discourse", "sync", SLUG)
    assert await snapshot(copub) == before


@sqlite_only
async def test_announce_sends_new_topics_not_their_old_replies(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    remote: RemoteServer,
    follower: Person,
) -> None:
    forum.seed_topics(category, 4, posts=5)
    out = await copub.cli("discourse", "sync", SLUG, "--announce")
    assert "items 20 created" in out
    await remote.wait_for(lambda got: len(remote.of_type("Create")) >= 4)
    creates = remote.of_type("Create")
    assert len(creates) == 4
    assert {d.activity["object"]["type"] for d in creates} == {"Note"}
    assert all("inReplyTo" not in d.activity["object"] for d in creates)
    assert await count_rows(copub, DeliveryRow) == 4 + 1  # 4 Creates and the Accept


@sqlite_only
async def test_a_second_backfill_catches_edits_deletes_and_new_replies(
    copub: Copub, forum: FakeDiscourse, category: Category, nora: User, community: str
) -> None:
    [kept, edited, gone] = forum.seed_topics(category, 3, posts=2)
    await copub.cli("discourse", "sync", SLUG)
    # When, with no webhook configured, a topic gets a reply, another is deleted, and a post
    # is edited without bumping its topic
    forum.hooks.url = None
    await forum.reply(edited, "A late reply about the seeded topic.", user=nora)
    await forum.delete_topic(gone)
    post = forum.posts[kept.post_ids[1]]
    await forum.edit(post, "An edited reply, no bump of the topic.")
    # Then a sync fetches the bumped topic only, and finds the deleted one gone
    out = await copub.cli("discourse", "sync", SLUG)
    assert "synced 2 topics: 1 fetched, 1 gone; items 1 created, 0 updated, 2 deleted" in out
    # And --full fetches every topic, which catches the silent edit
    out = await copub.cli("discourse", "sync", SLUG, "--full")
    assert "2 fetched" in out
    assert "1 updated" in out
    async with copub.sessions() as session:
        texts = list(
            await session.scalars(
                select(ObjectRow.content_html).where(ObjectRow.deleted_at.is_(None))
            )
        )
        live = await session.scalar(
            select(func.count()).select_from(ObjectRow).where(ObjectRow.deleted_at.is_(None))
        )
    assert any("An edited reply" in t for t in texts)
    assert live == 5


@sqlite_only
async def test_status_shows_the_cursor_and_the_queue(
    copub: Copub, forum: FakeDiscourse, category: Category, community: str
) -> None:
    forum.seed_topics(category, 2)
    await adapter(copub).walker(SLUG).backfill()
    out = await copub.cli("discourse", "status", SLUG)
    assert "mirrored:   2 forum posts; 0 fediverse replies" in out
    assert "backfill:   finished" in out
    assert "jobs:       none" in out


@sqlite_only
async def test_the_category_description_topic_is_not_an_item(
    database_url: str, tmp_path: Path, forum: FakeDiscourse, category: Category, nora: User
) -> None:
    # Given the category has its "About" topic when copub starts (and reads the category)
    general = forum.add_category("general", "General", about=True)
    about = forum.topics[general.about_topic_id]
    about.category_id = category.id  # moved: it is now the about topic listed in ours
    category.about_topic_id = about.id
    forum.seed_topics(category, 2)
    copub = await start_connected(database_url, tmp_path, forum_table(forum, category), forum)
    try:
        await copub.create_community(SLUG)
        out = await copub.cli("discourse", "sync", SLUG)
        assert "synced 3 topics: 2 fetched" in out
        await forum.reply(about, "A reply in the about topic, ignored.", user=nora)
        await forum.hooks.settle()
        await jobs_settled(copub)
        assert await count_rows(copub, ObjectRow) == 2
    finally:
        await copub.server.close()
