"""The thread refresh runs in one process of a fleet (the ``thread-refresh`` singleton on
PostgreSQL, actors/store/singletons.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from actors.threads.limits import ThreadSettings
from actors.threads.refresh import SINGLETON, Refresher
from tests.ops.test_singletons import Sessions, holder_count, pg_url, processes

__all__ = ["pg_url", "processes"]  # the fixtures, for the test below


@dataclass
class CountingRefresher(Refresher):
    """A refresher whose passes only say which process made them."""

    name: str = ""
    passes: list[str] = field(default_factory=list)

    async def once(self, now: datetime | None = None) -> int:
        self.passes.append(self.name)
        return 0


async def _never(url: str, community: object) -> dict[str, object]:
    raise AssertionError("no fetches in this test")


@pytest.mark.postgres
async def test_one_process_of_the_fleet_refreshes_threads(processes: list[Sessions]) -> None:
    settings = ThreadSettings(refresh_minutes=0.0005)  # a pass every 30 ms
    passes: list[str] = []
    refreshers = [
        CountingRefresher(
            sessions, _never, lambda _u: False, settings=settings, name=name, passes=passes
        )
        for name, sessions in zip("AB", processes, strict=False)
    ]
    tasks = [asyncio.create_task(r.run()) for r in refreshers]
    try:
        async with asyncio.timeout(10):
            while len(passes) < 5:
                await holder_count(processes[2], SINGLETON)
        assert len(set(passes)) == 1, passes
        assert await holder_count(processes[2], SINGLETON) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
