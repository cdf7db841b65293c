"""Whole conversations on the web side: the schedule that looks again at held threads
(actors/threads/refresh.py), started with the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from actors.hooks import ObjectObserver
from actors.store.db import in_background
from actors.threads.refresh import Refresher
from actors.web.keys import OBJECT_OBSERVERS, REMOTE, SESSIONS, URLS
from actors.web.workers import DELIVERY_WORKER

THREAD_REFRESHER = web.AppKey("thread_refresher", Refresher)


async def thread_refresh_ctx(app: web.Application) -> AsyncIterator[None]:
    """Look again at recent threads every so often, in the process that runs the delivery
    worker (after ``delivery_worker_ctx``), the one holder of the singleton on PostgreSQL."""
    observers: list[ObjectObserver] = app[OBJECT_OBSERVERS]
    refresher = Refresher(
        app[SESSIONS], app[REMOTE].fetch_object, app[URLS].is_local, observers=observers
    )
    app[THREAD_REFRESHER] = refresher
    if DELIVERY_WORKER not in app:
        yield
        return
    task = asyncio.create_task(in_background(refresher.run()), name="thread-refresh")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
