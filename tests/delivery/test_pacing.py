"""Deliveries start a handful per turn of the event loop (federation/delivery/pacing.py):
what arrives meanwhile, a request say, is handled between two handfuls, not after a relay's
whole burst."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store.jobqueue import SqlJobQueue
from federation.client import PostResult
from federation.delivery.pacing import TurnPacer
from federation.delivery.worker import STARTS_PER_TURN, DeliveryWorker
from federation.keys import Signer
from tests import factories
from tests.delivery.inboxes import URLS, publish


class Turns:
    """Counts the turns of the running event loop (a callback that schedules itself)."""

    def __init__(self) -> None:
        self.count = 0
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def test_at_most_per_turn_start_in_one_turn_in_the_order_they_came() -> None:
    pacer = TurnPacer(per_turn=3)
    turns = Turns()
    started: list[tuple[int, int]] = []  # (who, turn)

    async def start(who: int) -> None:
        await pacer.turn()
        started.append((who, turns.count))

    await asyncio.gather(*(start(who) for who in range(10)))
    turns.stop()
    assert [who for who, _ in started] == list(range(10))
    per_turn: dict[int, int] = {}
    for _, turn in started:
        per_turn[turn] = per_turn.get(turn, 0) + 1
    assert max(per_turn.values()) == 3
    assert len(per_turn) == 4  # 3 + 3 + 3 + 1


async def test_on_an_idle_loop_a_start_does_not_wait() -> None:
    pacer = TurnPacer(per_turn=2)
    turns = Turns()
    await pacer.turn()
    await pacer.turn()
    assert turns.count == 0, "both started in the turn they asked in"
    await pacer.turn()  # the third waits for the next turn
    assert turns.count >= 1
    turns.stop()


async def test_a_cancelled_wait_gives_its_place_to_the_next() -> None:
    pacer = TurnPacer(per_turn=1)
    starts = [asyncio.ensure_future(pacer.turn()) for _ in range(4)]
    await asyncio.sleep(0)  # the first started; the others wait, in order
    assert [start.done() for start in starts] == [True, False, False, False]
    starts[1].cancel()
    await asyncio.wait_for(asyncio.gather(starts[2], starts[3]), 1)
    assert starts[1].cancelled()


class RecordingSender:
    """Answers 202 to every POST, noting the loop turn each one started in."""

    def __init__(self, turns: Turns) -> None:
        self.turns = turns
        self.started: list[int] = []

    async def post_activity(self, inbox_url: str, body: bytes, signer: Signer) -> PostResult:
        self.started.append(self.turns.count)
        await asyncio.sleep(0.01)  # all in flight together
        return PostResult(202, None, "")


async def test_a_relay_to_many_hosts_starts_a_handful_a_turn(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    community = await factories.create_community(sessions)
    await publish(sessions, community, [f"https://h{i}.test/inbox" for i in range(40)])
    turns = Turns()
    sender = RecordingSender(turns)
    worker = DeliveryWorker(SqlJobQueue(sessions, URLS), sender, concurrency=64)
    try:
        assert await worker.run_once() == 40
    finally:
        turns.stop()
    assert worker.counts["done"] == 40
    starts_in = {turn: sender.started.count(turn) for turn in sender.started}
    assert max(starts_in.values()) <= STARTS_PER_TURN
    assert len(starts_in) >= 40 // STARTS_PER_TURN
