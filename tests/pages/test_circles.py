"""Circles of participation from counts: thresholds, their boundaries, and the outer rings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actors.circles import Level, Participation, derive_circles, level_of, window_start
from actors.settings import ParticipationSettings

S = ParticipationSettings(window_days=90, core_min_contributions=10, active_min_contributions=3)


def p(posts: int = 0, events: int = 0, *, follower: bool = False, coordinator: bool = False,
      actor: str = "https://s.example/users/a") -> Participation:  # fmt: skip
    return Participation(actor, posts, events, follower, coordinator)


@pytest.mark.parametrize(
    ("posts", "follower", "expected"),
    [
        (10, True, Level.CORE),  # exactly the core threshold
        (9, True, Level.ACTIVE),  # one below it
        (3, True, Level.ACTIVE),  # exactly the active threshold
        (2, True, Level.PERIPHERAL),  # one below it, following
        (0, True, Level.PERIPHERAL),  # follows and reads
        (2, False, Level.TRANSACTIONAL),  # took part without following
        (1, False, Level.TRANSACTIONAL),
        (0, False, None),  # neither follows nor took part
        (3, False, Level.ACTIVE),  # active without following
        (10, False, Level.CORE),
    ],
)
def test_level_thresholds(posts: int, follower: bool, expected: Level | None) -> None:
    assert level_of(p(posts, follower=follower), S) is expected


def test_events_joined_count_as_contributions() -> None:
    assert level_of(p(2, 1, follower=True), S) is Level.ACTIVE
    assert level_of(p(0, 10), S) is Level.CORE
    assert level_of(p(0, 1), S) is Level.TRANSACTIONAL


def test_events_can_be_left_out() -> None:
    settings = ParticipationSettings(count_event_participation=False)
    assert level_of(p(2, 5, follower=True), settings) is Level.PERIPHERAL
    # joining an event without following is still taking part
    assert level_of(p(0, 5), settings) is Level.TRANSACTIONAL


def test_coordinators_are_core_unless_configured_otherwise() -> None:
    assert level_of(p(coordinator=True), S) is Level.CORE
    settings = ParticipationSettings(coordinators_are_core=False)
    assert level_of(p(coordinator=True), settings) is None
    assert level_of(p(4, coordinator=True, follower=True), settings) is Level.ACTIVE


def test_window_start_is_window_days_back() -> None:
    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert window_start(now, S) == now - timedelta(days=90)
    assert window_start(now, ParticipationSettings(window_days=1)) == now - timedelta(days=1)


def test_circles_count_followers_who_did_nothing_as_peripheral() -> None:
    people = [
        p(12, follower=True, actor="https://a.example/core"),
        p(5, follower=True, actor="https://a.example/active"),
        p(1, follower=True, actor="https://a.example/reader"),
        p(1, actor="https://b.example/visitor"),
        p(0, 2, actor="https://b.example/eventgoer"),
        p(4, actor="https://b.example/active-visitor"),
    ]
    circles = derive_circles(people, S, followers_total=20)
    assert [m.actor_id for m in circles.core] == ["https://a.example/core"]
    assert [m.actor_id for m in circles.active] == [
        "https://a.example/active",
        "https://b.example/active-visitor",
    ]
    # 20 followers, of whom 2 are core or active: 18 peripheral (the reader among them)
    assert circles.peripheral == 18
    assert circles.transactional == 2
    assert circles.total == 1 + 2 + 18 + 2


def test_circles_order_coordinators_first_then_by_contributions() -> None:
    people = [
        p(11, actor="https://x.example/b"),
        p(30, actor="https://x.example/c"),
        p(11, actor="https://x.example/a"),
        p(0, actor="https://x.example/coord", coordinator=True),
    ]
    core = derive_circles(people, S, followers_total=0).core
    assert [m.actor_id for m in core] == [
        "https://x.example/coord",
        "https://x.example/c",
        "https://x.example/a",
        "https://x.example/b",
    ]
    assert core[0].coordinator
    assert not core[1].coordinator
    assert [m.contributions for m in core] == [0, 30, 11, 11]
    assert {m.level for m in core} == {Level.CORE}


def test_peripheral_never_negative() -> None:
    circles = derive_circles([p(20, follower=True)], S, followers_total=0)
    assert circles.peripheral == 0


def test_nobody() -> None:
    circles = derive_circles([], S, followers_total=0)
    assert (circles.core, circles.active, circles.peripheral, circles.transactional) == (
        (),
        (),
        0,
        0,
    )


def test_a_person_listed_twice_is_a_bug() -> None:
    with pytest.raises(ValueError, match="twice"):
        derive_circles([p(1), p(2)], S, followers_total=0)
