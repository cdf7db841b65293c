"""Background work shares the event loop in small turns.

A community that relays a post to 350 inboxes gets 350 deliveries due at once; the worker
claimed 128 and started 64 POSTs in one turn of the event loop, and each turn after that ran
their next steps together (signatures, connections, requests, answers): 15-30 ms in which a
request that had arrived waited to be read. Under bench/bench_hostile.py, where a member's
post is relayed every 2 s, the slowest genuine Follows were those that arrived just after one.

A :class:`TurnPacer` lets ``per_turn`` jobs start in each turn of the loop; the others wait
for the next turns, in order. Nothing is slower when the loop is idle (a turn takes
microseconds), and whatever arrived meanwhile, a request, a timer, an answer, is handled
between two handfuls of starts.
"""

from __future__ import annotations

import asyncio
from collections import deque


class TurnPacer:
    """At most ``per_turn`` calls of :meth:`turn` return in one turn of the event loop."""

    def __init__(self, per_turn: int = 8) -> None:
        if per_turn < 1:
            raise ValueError("per_turn must be at least 1")
        self.per_turn = per_turn
        self._left = per_turn  # starts left in this turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._next_turn: asyncio.Handle | None = None

    async def turn(self) -> None:
        """Return when this turn of the loop, or a later one, has room for one more start."""
        if self._left > 0 and not self._waiting:
            self._left -= 1
            self._schedule()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._schedule()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _schedule(self) -> None:
        if self._next_turn is None:
            self._next_turn = asyncio.get_running_loop().call_soon(self._new_turn)

    def _new_turn(self) -> None:
        self._next_turn = None
        self._left = self.per_turn
        while self._waiting and self._left > 0:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._left -= 1
        if self._waiting or self._left < self.per_turn:
            self._schedule()
