"""Python's cyclic garbage collector under a long-running server: startup's objects frozen.

A started ``copub serve`` holds about 180,000 objects that live as long as the process
(modules, classes, functions, templates, SQLAlchemy's mappers), and every full collection
walked them all again with the event loop stopped: 70-120 ms on a small server, every
10-15 s under ``bench/bench_hostile.py``'s mix (requests that stay open keep their objects
alive long enough to reach the oldest generation, and that triggers full collections), so
the slowest percent of all requests waited for the collector. Once the server has started,
:func:`freeze_startup_heap` collects once and moves what is left out of the collector's
sight (``gc.freeze``): later collections walk only what came after. The frozen objects
are not leaked; they are freed as before when nothing refers to them any more.

What the server keeps later (caches filling, peers' keys and documents) grew the oldest
generation again: under the same mix full collections took 10-17 ms by the end of a
10-minute run. :class:`HeapKeeper` freezes what each full collection leaves too (live
at that moment, so likely to stay), and the next full collection walks only what reached
the oldest generation since. A frozen object that later becomes cyclic garbage is kept
until the keeper thaws everything (``THAW_SECONDS``), collects once and freezes again:
one long collection every few minutes instead of a long one every few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

THAW_SECONDS = 300.0


def freeze_startup_heap() -> int:
    """Collect, then freeze every object the collector tracks; returns how many."""
    began = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "froze %d objects of startup for the garbage collector (%.0f ms)",
        frozen,
        (time.perf_counter() - began) * 1000,
    )
    return frozen


async def freeze_on_startup(_app: web.Application) -> None:
    """An ``on_startup`` handler: appended last, it runs when the rest of startup is done."""
    freeze_startup_heap()


class HeapKeeper:
    """Freezes the startup heap, then the survivors of every full collection; every
    ``thaw_every`` seconds thaws all, collects the cyclic garbage kept frozen, freezes again.

    ``start`` is an ``on_startup`` handler (appended last), ``stop`` an ``on_cleanup`` one."""

    def __init__(self, thaw_every: float = THAW_SECONDS) -> None:
        self.thaw_every = thaw_every
        self.thaws = 0
        self._timer: asyncio.TimerHandle | None = None

    def after_collection(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` entry: what a full collection left alive is frozen."""
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    def thaw(self) -> int:
        """Thaw, collect everything once, freeze again; how many objects were unreachable."""
        began = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.thaws += 1
        log.debug(
            "thawed the heap: %d unreachable objects, %d frozen again (%.0f ms)",
            found,
            gc.get_freeze_count(),
            (time.perf_counter() - began) * 1000,
        )
        return found

    def _thaw_later(self) -> None:
        self.thaw()
        self._timer = asyncio.get_running_loop().call_later(self.thaw_every, self._thaw_later)

    async def start(self, _app: web.Application) -> None:
        freeze_startup_heap()
        gc.callbacks.append(self.after_collection)
        self._timer = asyncio.get_running_loop().call_later(self.thaw_every, self._thaw_later)

    async def stop(self, _app: web.Application) -> None:
        if self.after_collection in gc.callbacks:
            gc.callbacks.remove(self.after_collection)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
