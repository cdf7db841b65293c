"""Background work started with the app: the in-process delivery worker, and the
retention purge beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack

from aiohttp import web

from actors import retention
from actors.delivery import WorkerBusy, build_worker, delivery_client, wake_on_commit, worker_lock
from actors.store.db import in_background
from actors.web.keys import CLIENT, SESSIONS, SETTINGS
from actors.web.metrics import METRICS
from federation.delivery.worker import DeliveryWorker

log = logging.getLogger(__name__)

DELIVERY_WORKER = web.AppKey("delivery_worker", DeliveryWorker)


async def delivery_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the delivery worker while the app runs ([delivery] in_process_worker = true).

    Needs the database context before it. Sessions from ``app[SESSIONS]`` wake the worker
    when they commit new deliveries; on stop, in-flight deliveries get a grace period and
    unstarted ones are released for the next start."""
    settings = app[SETTINGS]
    if not settings.delivery.in_process_worker:
        yield
        return
    with ExitStack() as stack:
        try:
            stack.enter_context(worker_lock(settings.database.url))
        except WorkerBusy as exc:
            log.warning("not starting the in-process delivery worker: %s", exc)
            yield
            return
        client = delivery_client(settings, app[CLIENT].schemes)  # one memory per process
        await client.start()
        metrics = app.get(METRICS)
        observer = metrics.delivery if metrics is not None else None
        worker = build_worker(settings, app[SESSIONS], client, observer=observer)
        app[DELIVERY_WORKER] = worker
        wake_on_commit(app[SESSIONS], worker)
        task = asyncio.create_task(in_background(worker.run()), name="delivery-worker")
        try:
            yield
        finally:
            worker.stop()
            try:
                await task
            finally:
                await client.close()


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """Purge finished work every [retention] every_minutes (actors/retention.py), in the
    process that runs the delivery worker (after ``delivery_worker_ctx``: none runs here,
    no purge either)."""
    settings = app[SETTINGS]
    if DELIVERY_WORKER not in app or settings.retention.every_minutes <= 0:
        yield
        return
    task = asyncio.create_task(
        in_background(
            retention.run_periodically(app[SESSIONS], settings.retention, retention.purgers())
        ),
        name="retention",
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
