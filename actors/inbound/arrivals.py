"""Accept first: while inbox POSTs keep arriving, the processor waits before it claims.

On one core the inbox's requests (verify, store, 202) and the processor (apply) share the
CPU. Applied as they come, a burst's items are claimed a few at a time, each claim and
commit for two or three items, and every request waits behind that work: measured on
bench_inbox's old traffic (5,000 signed Likes, 16 connections), 1,200-1,500 accepted/s and
670-880 µs of server CPU a request. Waiting while the POSTs keep coming, then applying them
in full batches: 3,000-3,200 accepted/s and 410-440 µs a request, the whole burst applied
about half a second after its last 202.

The wait is bounded: the loop claims once no POST has arrived for ``quiet_seconds``, or
once the first item not yet claimed has waited ``defer_seconds``; then it goes on claiming
until it has drained what is pending. An item is stored before its 202 (the queue is the
database), so waiting loses nothing; under a stream that never pauses, items wait at most
about ``defer_seconds`` plus the time to apply those before them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# no POST for this long: the burst is over (one sender's requests, one after the other,
# come closer together than this)
QUIET_SECONDS = 0.02
# the longest the first item not yet claimed waits for the requests after it
DEFER_SECONDS = 2.0


class Arrivals:
    """When the inbox's POSTs arrived, as the processor's loop needs to know it."""

    def __init__(
        self,
        *,
        defer_seconds: float = DEFER_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.defer_seconds = defer_seconds
        self.quiet_seconds = quiet_seconds
        self._clock = clock
        self._last: float | None = None  # the latest POST
        self._unclaimed_since: float | None = None  # the first POST not (known) claimed

    def arrived(self) -> None:
        """An inbox POST was accepted (its item stored)."""
        self._last = self._clock()
        if self._unclaimed_since is None:
            self._unclaimed_since = self._last

    def wait(self) -> float:
        """Seconds to wait before the next claim (0: claim now)."""
        if self._last is None or self._unclaimed_since is None:
            return 0.0
        now = self._clock()
        until = min(self._last + self.quiet_seconds, self._unclaimed_since + self.defer_seconds)
        return max(0.0, until - now)

    def claiming(self) -> float | None:
        """A claim begins: what it will take arrived before now. Returns the mark to give
        :meth:`claimed`."""
        since, self._unclaimed_since = self._unclaimed_since, None
        return since

    def claimed(self, since: float | None, *, drained: bool) -> None:
        """The claim that :meth:`claiming` began took all that was pending (``drained``)
        or a full batch: then what it left has waited since ``since``."""
        if not drained and since is not None:
            self._unclaimed_since = since
