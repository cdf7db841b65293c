"""Who took part, counted in the database: the window, what counts, and who follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actors.circles import Participation
from actors.community import Community
from actors.store import participation
from tests import factories
from tests.pages.builders import (
    EventSpec,
    Sessions,
    actor_url,
    add_event,
    add_follower,
    add_moderator,
    add_post,
    add_remote_actor,
    add_story,
)

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


async def people(db: Sessions, community: Community) -> dict[str, Participation]:
    async with db() as session:
        found = await participation.participations(session, community.id, SINCE)
    return {p.actor_id: p for p in found}


async def test_the_window_starts_at_its_first_moment(db: Sessions, nightshift: Community) -> None:
    alice, bob = actor_url("alice"), actor_url("bob")
    await add_post(db, nightshift, alice, published=SINCE)  # exactly at the start: counts
    await add_post(db, nightshift, bob, published=SINCE - timedelta(microseconds=1))
    found = await people(db, nightshift)
    assert found[alice].posts == 1
    assert bob not in found


async def test_posts_and_replies_count_deleted_and_foreign_do_not(
    db: Sessions, nightshift: Community
) -> None:
    alice = actor_url("alice")
    other = await factories.create_community(db, "dayshift")
    story = await add_story(db, nightshift, "A story")
    await add_post(db, nightshift, alice, published=SINCE + timedelta(days=1))
    await add_post(db, nightshift, alice, reply_to=story.ap_id, published=SINCE + timedelta(days=2))
    await add_post(db, nightshift, alice, deleted=True, published=SINCE + timedelta(days=3))
    await add_post(db, other, alice, published=SINCE + timedelta(days=3))
    found = await people(db, nightshift)
    assert found[alice].posts == 2
    assert nightshift.slug not in "".join(found)  # the community's own story is no member's


async def test_event_participation_in_the_window(db: Sessions, nightshift: Community) -> None:
    alice, carol = actor_url("alice"), actor_url("carol", "events.example")
    when = datetime(2026, 6, 1, tzinfo=UTC)
    await add_event(
        db,
        nightshift,
        EventSpec("One", when, participants=[(alice, SINCE), (carol, SINCE - timedelta(days=1))]),
    )
    await add_event(db, nightshift, EventSpec("Two", when, participants=[(alice, when)]))
    found = await people(db, nightshift)
    assert found[alice].events_joined == 2
    assert carol not in found


async def test_followers_and_coordinators_are_marked(db: Sessions, nightshift: Community) -> None:
    alice, bob = actor_url("alice"), actor_url("bob")
    zed, amy = actor_url("zed"), actor_url("amy")
    await add_moderator(db, nightshift, zed)
    await add_moderator(db, nightshift, amy)
    await add_follower(db, nightshift, alice)
    await add_follower(db, nightshift, bob, state="pending")
    await add_follower(db, nightshift, amy)
    for actor in (alice, bob, amy, amy):
        await add_post(db, nightshift, actor, published=SINCE)
    await add_event(db, nightshift, EventSpec("E", SINCE, participants=[(amy, SINCE)]))
    async with db() as session:
        found = await participation.participations(session, nightshift.id, SINCE)
    # coordinators first, in the order they were added; then everyone else by id
    assert [p.actor_id for p in found] == [zed, amy, alice, bob]
    by_id = {p.actor_id: p for p in found}
    assert by_id[alice] == Participation(alice, 1, 0, follower=True, coordinator=False)
    assert not by_id[bob].follower  # a pending request is not following yet
    assert by_id[zed] == Participation(zed, 0, 0, follower=False, coordinator=True)
    assert by_id[amy] == Participation(amy, 2, 1, follower=True, coordinator=True)


async def test_names_of_known_actors(db: Sessions, nightshift: Community) -> None:
    alice = actor_url("alice")
    await add_remote_actor(db, alice, name="Alice", handle="alice@social.example")
    async with db() as session:
        known = await participation.known_actors(session, [alice, actor_url("nobody")])
    assert list(known) == [alice]
    assert (known[alice].name, known[alice].handle) == ("Alice", "alice@social.example")
