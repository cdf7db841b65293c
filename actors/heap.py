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
"""

from __future__ import annotations

import gc
import logging
import time

from aiohttp import web

log = logging.getLogger(__name__)


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
