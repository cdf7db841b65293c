"""copub_event_loop_lag_seconds: how much later than due the event loop runs a timer."""

from __future__ import annotations

import asyncio
import time

from actors.web.metrics import watch_loop_lag
from tests.flows.copub import Copub
from tests.ops.conftest import scrape


async def test_a_blocked_loop_is_seen_late() -> None:
    lags: list[float] = []
    late: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def observe(lag: float) -> None:
        lags.append(lag)
        if lag >= 0.05 and not late.done():
            late.set_result(lag)

    watcher = asyncio.create_task(watch_loop_lag(observe, interval=0.01))
    await asyncio.sleep(0)  # the watcher's first timer is set
    time.sleep(0.08)  # the loop blocked: the timer due in 10 ms runs 70 ms late
    try:
        assert await asyncio.wait_for(late, 5) < 1.0
    finally:
        watcher.cancel()
    assert lags[0] >= 0.05  # the first wake-up after the block, not a later one


async def test_the_lag_is_on_metrics(metered: Copub, metrics_port: int) -> None:
    found = await scrape(metrics_port)
    assert "copub_event_loop_lag_seconds" in found.families
    assert found.families["copub_event_loop_lag_seconds"].type == "histogram"
