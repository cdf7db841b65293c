"""A community's dashboard in the console (``/console/c/{slug}``): its followers, recent
items and replies, upcoming events with who takes part, links and their state, the
deliveries waiting and the servers refusing them, and the panels plugins add (the
Discourse mirror's status); in a number of queries that does not grow with the data."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.hooks import Panel
from actors.settings import Settings
from actors.store.models import ActivityRow, DeliveryRow, RemoteActorRow
from actors.store.models_links import LinkRow
from actors.web.keys import DASHBOARD_PANELS, ENGINE, SESSIONS
from adapters.discourse.models import ForumJobRow, ForumStateRow
from tests import factories
from tests.conftest import ClientFactory
from tests.console.helpers import FAST_HASHING, coordinator
from tests.discourse.harness import forum_table, prepare_forum
from tests.fakes.discourse import FakeDiscourse
from tests.pages.builders import (
    EventSpec,
    Version,
    actor_url,
    add_event,
    add_follower,
    add_post,
    add_practice,
    add_story,
    now,
)

Sessions = async_sessionmaker[AsyncSession]
_ids = itertools.count(1)
HOME = "/console/c/nightshift"
PHARMACY = "https://pharmacy.example/c/nights"


async def add_deliveries(db: Sessions, community: Community, jobs: list[tuple[str, str, str | None]]
                         ) -> None:  # fmt: skip
    """One activity of ``community`` and a delivery per (inbox, state, last error)."""
    async with db.begin() as session:
        activity = ActivityRow(
            ap_id=f"https://cop.test/c/{community.slug}/activities/{next(_ids)}",
            community_id=community.id, ap_type="Create", ap_json={"type": "Create"},
        )  # fmt: skip
        session.add(activity)
        await session.flush()
        for inbox, state, error in jobs:
            host = inbox.split("/")[2]
            session.add(
                DeliveryRow(
                    activity_id=activity.id, community_id=community.id, inbox=inbox, host=host,
                    state=state, last_error=error, attempts=0 if state == "queued" else 1,
                )
            )  # fmt: skip


async def add_link(db: Sessions, community: Community, actor: str, state: str, name: str) -> None:
    async with db.begin() as session:
        session.add(RemoteActorRow(ap_id=actor, inbox=actor + "/inbox", name=name,
                                   actor_type="Group"))  # fmt: skip
        session.add(LinkRow(community_id=community.id, remote_actor_id=actor,
                            inbox=actor + "/inbox", state=state,
                            follow_activity_id=f"https://cop.test/follows/{name}"))  # fmt: skip


@pytest.fixture
def settings(database_url: str) -> Settings:
    """No background work: the deliveries stay as the test wrote them, and every statement
    run is the dashboard's."""
    return factories.make_settings(
        database_url, console=FAST_HASHING, delivery={"in_process_worker": False},
        inbox={"in_process": False},
    )  # fmt: skip


class FakePanel:
    async def dashboard_panel(self, session: AsyncSession, community: Community) -> Panel | None:
        if community.slug != "nightshift":
            return None
        return Panel("Newsletter", (("Last issue", "No. 12"),), ("The mailer is down.",))


async def test_the_dashboard_shows_the_community_at_a_glance(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift", closed=True)
    pharmacy = await factories.create_community(db, "pharmacy")
    for name in ("ann", "bob", "cat"):
        await add_follower(db, nightshift, actor_url(name))
    for name in ("dan", "eve"):
        await add_follower(db, nightshift, actor_url(name), state="pending")
    await add_follower(db, pharmacy, actor_url("fay"))
    story = await add_story(db, nightshift, "Night handover", published=now() - timedelta(days=2))
    await add_practice(db, nightshift, "Double-check insulin", [Version("Read it twice.")])
    await add_post(db, nightshift, actor_url("ann"), html="<p>Thanks <b>for</b> this</p>",
                   reply_to=story.ap_id)  # fmt: skip
    await add_event(db, nightshift, EventSpec(
        "Monthly case review", now() + timedelta(days=3), capacity=10,
        participants=[(actor_url("ann"), None), (actor_url("bob"), None)],
    ))  # fmt: skip
    await add_event(db, nightshift, EventSpec("Last year's party", now() - timedelta(days=300)))
    await add_link(db, nightshift, PHARMACY, "accepted", "Pharmacy Nights")
    await add_link(db, nightshift, "https://ward.example/c/w", "pending", "Ward Seven")
    await add_deliveries(db, nightshift, [
        ("https://up.example/inbox", "queued", None),
        ("https://down.example/users/a/inbox", "retrying", "timeout after 30 s"),
        ("https://down.example/users/b/inbox", "retrying", "timeout after 30 s"),
        ("https://down.example/inbox", "failed", "HTTP 410"),
        ("https://up.example/users/c/inbox", "done", None),
    ])  # fmt: skip
    await add_deliveries(db, pharmacy, [("https://other.example/inbox", "failed", "HTTP 500")])
    console.app[DASHBOARD_PANELS].append(FakePanel())

    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.get(HOME)
    assert page.status == 200
    text = page.text
    assert "<h1>Night Shift Nursing</h1>" in text
    assert "<strong>3</strong> following" in text
    assert "<strong>2</strong> waiting for approval" in text
    assert "<strong>1</strong> queued" in text
    assert "<strong>2</strong> retrying" in text
    assert "<strong>1</strong> failed" in text
    assert "<strong>down.example</strong>: 2 retrying, 1 failed" in text
    assert "HTTP 410" in text  # the error of its latest try
    assert "other.example" not in text  # another community's delivery
    assert "Night handover" in text
    assert "Double-check insulin" in text
    assert "Thanks for this" in text
    assert "<b>for</b>" not in text
    assert "Monthly case review" in text
    assert "2 of 10 taking part" in text
    assert "Last year's party" not in text.split('id="d-events"', 1)[1]
    assert "Pharmacy Nights</a>: linked" in text
    assert "Ward Seven</a>: waiting for an answer" in text
    assert "Newsletter" in text
    assert "No. 12" in text
    assert "The mailer is down." in text
    assert 'href="https://cop.test/console/c/nightshift/write"' in text


@contextmanager
def statements(console: TestClient[Any, Any]) -> Iterator[list[str]]:
    """The SQL statements run while the block runs."""
    engine = console.app[ENGINE].sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_dashboard_costs_the_same_queries_with_more_data(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    await add_story(db, nightshift, "First")
    await add_event(db, nightshift, EventSpec("First meeting", now() + timedelta(days=1)))
    await add_deliveries(db, nightshift, [("https://h.example/inbox", "failed", "HTTP 500")])
    with statements(console) as few:
        assert (await alice.get(HOME)).status == 200
    for n in range(60):
        await add_follower(db, nightshift, actor_url(f"p{n}"))
        await add_story(db, nightshift, f"Story {n}")
    for n in range(6):
        meeting = EventSpec(f"Meeting {n}", now() + timedelta(days=n + 1),
                            participants=[(actor_url("p1"), None)])  # fmt: skip
        await add_event(db, nightshift, meeting)
    await add_deliveries(db, nightshift, [
        (f"https://h{n}.example/inbox", "retrying", "timeout") for n in range(20)
    ])  # fmt: skip
    with statements(console) as many:
        page = await alice.get(HOME)
    assert page.status == 200
    assert "<strong>60</strong> following" in page.text
    assert len(many) == len(few) <= 15, many


# -- the Discourse mirror ---------------------------------------------------------------------


@pytest.fixture
async def forum() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as fake:
        yield fake


async def test_the_discourse_mirror_shows_its_status(
    make_client: ClientFactory, database_url: str, forum: FakeDiscourse
) -> None:
    category, _nora = prepare_forum(forum)
    table = forum_table(forum, "night-shift")
    settings = factories.make_settings(
        database_url, console=FAST_HASHING, adapters=["adapters.discourse"], discourse=[table]
    )
    console = await make_client(settings)
    db: Sessions = console.app[SESSIONS]
    nightshift = await factories.create_community(db, "nightshift")
    pharmacy = await factories.create_community(db, "pharmacy")
    alice = await coordinator(console, settings, db, nightshift.id)

    page = await alice.get(HOME)
    assert "Discourse mirror" in page.text
    assert forum.base_url in page.text
    assert "Last poll</dt><dd>never" in page.text

    async with db.begin() as session:
        state = await session.get(ForumStateRow, nightshift.id)
        if state is None:
            state = ForumStateRow(community_id=nightshift.id)
            session.add(state)
        state.category_id, state.category_slug = category.id, "night-shift"
        state.last_poll_at = now().replace(year=2026, month=3, day=4, hour=5, minute=6)
        state.last_error = "the API key was refused"
        session.add(ForumJobRow(community_id=nightshift.id, kind="reply", state="failed"))
    page = await alice.get(HOME)
    assert f"night-shift (id {category.id})" in page.text
    assert "Last poll</dt><dd>2026-03-04 05:06 UTC" in page.text
    assert "Last error: the API key was refused" in page.text
    assert "1 forum jobs failed" in page.text
    assert "1 failed" in page.text

    other = await coordinator(console, settings, db, pharmacy.id, "bea")
    assert "Discourse mirror" not in (await other.get("/console/c/pharmacy")).text
