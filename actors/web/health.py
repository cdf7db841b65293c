"""``/healthz`` and ``/readyz``: what a load balancer or an orchestrator asks, cheaply and
without signing in.

- ``/healthz``: the process answers (200 ``{"status": "ok"}``); nothing else is looked at.
- ``/readyz``: the database answers and its schema is the one this code was written for
  (200 ``{"status": "ready"}``), else 503 ``{"status": "unavailable", "reason": ...}``: a
  process whose database is down, or behind or ahead of its migrations, gets no traffic.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from actors.store import health
from actors.web.keys import SESSIONS

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5.0  # an unreachable database fails the probe, never hangs it


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app[SESSIONS]() as session:
                await health.ping(session)
                problem = await health.schema_problem(session)
    except TimeoutError:
        problem = f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # noqa: BLE001 (whatever the driver raises: not ready)
        log.warning("readyz: the database cannot be reached: %s", type(exc).__name__)
        problem = f"the database cannot be reached ({type(exc).__name__})"
    if problem is not None:
        return web.json_response({"status": "unavailable", "reason": problem}, status=503)
    return web.json_response({"status": "ready"})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
