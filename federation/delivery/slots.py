"""Per-host concurrency: a semaphore per host, kept only while someone uses it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class HostSlots:
    """A semaphore per host, dropped when nobody holds or waits for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    def __len__(self) -> int:
        """Hosts with a holder or a waiter (the others are not kept)."""
        return len(self._slots)

    def load(self, host: str) -> int:
        """Jobs holding or waiting for a slot of ``host``."""
        entry = self._slots.get(host)
        return entry[1][0] if entry is not None else 0

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        entry = self._slots.get(host)
        if entry is None:
            entry = self._slots[host] = (asyncio.Semaphore(self.size), [0])
        semaphore, users = entry
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]
