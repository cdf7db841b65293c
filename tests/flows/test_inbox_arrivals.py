"""Accept first: while the inbox's POSTs keep coming, the processor's loop waits before it
claims (actors/inbound/arrivals.py), for a pause or at most ``defer_seconds`` after the
first item it has not claimed; an inbox POST is what it counts."""

from __future__ import annotations

import asyncio

import pytest

from actors.inbound.arrivals import Arrivals
from actors.web.keys import INBOX_PROCESSOR
from federation.vocab import AS_CONTEXT
from tests.flows.copub import Copub
from tests.flows.remote import RemoteServer

PATIENCE = 10.0


class Clock:
    """A monotonic clock the test moves; ``asked`` is set each time it is read."""

    def __init__(self) -> None:
        self.now = 100.0
        self.asked = asyncio.Event()

    def __call__(self) -> float:
        self.asked.set()
        return self.now


def test_nothing_arrived_no_wait() -> None:
    assert Arrivals(clock=Clock()).wait() == 0


def test_a_post_is_followed_by_a_pause_before_the_claim() -> None:
    clock = Clock()
    arrivals = Arrivals(quiet_seconds=0.02, clock=clock)
    arrivals.arrived()
    assert arrivals.wait() == pytest.approx(0.02)
    clock.now += 0.015
    assert arrivals.wait() == pytest.approx(0.005)
    clock.now += 0.005
    assert arrivals.wait() == 0  # the POSTs paused: claim


def test_a_stream_that_never_pauses_waits_defer_seconds_at_most() -> None:
    clock = Clock()
    arrivals = Arrivals(quiet_seconds=0.02, defer_seconds=2.0, clock=clock)
    first = clock.now
    while clock.now < first + 1.99:
        arrivals.arrived()
        assert arrivals.wait() > 0
        clock.now += 0.005
    arrivals.arrived()
    assert arrivals.wait() == pytest.approx(first + 2.0 - clock.now)
    clock.now = first + 2.0
    arrivals.arrived()
    assert arrivals.wait() == 0


def _claimed_after_two_seconds(*, drained: bool) -> tuple[Clock, Arrivals]:
    """A POST, and a claim two seconds later (a POST arriving during it) that took a full
    batch or all that was pending."""
    clock = Clock()
    arrivals = Arrivals(quiet_seconds=0.02, defer_seconds=2.0, clock=clock)
    arrivals.arrived()
    clock.now += 2.0
    since = arrivals.claiming()
    if not drained:
        arrivals.arrived()
    arrivals.claimed(since, drained=drained)
    return clock, arrivals


def test_a_full_batch_leaves_the_rest_as_old_as_before() -> None:
    _, arrivals = _claimed_after_two_seconds(drained=False)
    assert arrivals.wait() == 0  # the first unclaimed one has waited 2 s: go on


def test_a_drained_queue_counts_from_the_next_post() -> None:
    clock, arrivals = _claimed_after_two_seconds(drained=True)
    assert arrivals.wait() == 0  # nothing arrived since
    clock.now += 1.0
    arrivals.arrived()
    assert arrivals.wait() == pytest.approx(0.02)


async def test_the_loop_claims_once_the_posts_pause(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given the processor's loop, and a clock that stands still until the test moves it
    processor = copub.app[INBOX_PROCESSOR]
    clock = Clock()
    processor.arrivals = Arrivals(quiet_seconds=0.02, defer_seconds=2.0, clock=clock)
    alice = remote.person("alice")
    like = {"@context": AS_CONTEXT, "id": f"{alice.id}#likes/1", "type": "Like",
            "actor": alice.id, "object": f"{alice.id}/notes/1"}  # fmt: skip
    # When a POST is accepted, and the clock stands at its arrival
    status, answer = await remote.post(alice, copub.inbox("nightshift"), like)
    assert status == 202, answer
    # Then the loop looks at the clock again and again, and does not claim the item
    for _ in range(3):
        clock.asked.clear()
        async with asyncio.timeout(PATIENCE):
            await clock.asked.wait()
    assert await copub.inbox_items(like["id"]) == ["pending"]
    # And once the POSTs have paused, it is applied
    clock.now += 0.02
    await copub.processed(like["id"])
