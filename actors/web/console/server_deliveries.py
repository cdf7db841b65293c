"""The delivery queue, for admins: deliveries in each state (``copub deliveries``), the
health of each peer (queued, retrying and failed deliveries per host, its circuit
breaker when the worker runs in this process, its latest error), and "retry now" for a
failing peer: its deliveries are due at once (``actors.store.peers.retry_host_now``) and
an open circuit lets one of them through as its probe."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from actors.store import jobs, peers
from actors.web.console.account import when
from actors.web.console.auth import audit, redirect, render, require_admin
from actors.web.console.server_communities import SERVER
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS
from actors.web.workers import DELIVERY_WORKER
from federation.clock import utcnow
from federation.delivery.breaker import CircuitView

DELIVERIES = SERVER + "/deliveries"
PEERS_SHOWN = 100
ERROR_SHOWN = 300  # characters of a peer's last error
HOST_RE = re.compile(r"[a-z0-9.\-\[\]:]{1,255}")  # what actors.store.jobs keeps as a host


def _circuit(request: web.Request, host: str) -> CircuitView | None:
    """The host's circuit in this process's delivery worker (None: no worker here)."""
    worker = request.app.get(DELIVERY_WORKER)
    return worker.breakers.circuit(host, worker.clock()) if worker is not None else None


def _peer(request: web.Request, peer: peers.PeerHealth) -> dict[str, Any]:
    error = " ".join((peer.last_error or "").split())
    return {
        "host": peer.host,
        "queued": peer.queued,
        "retrying": peer.retrying,
        "failed": peer.failed,
        "next_try": when(peer.next_try_at),
        "last_try": when(peer.last_try_at),
        "last_status": peer.last_status,
        "last_error": error[:ERROR_SHOWN] + ("…" if len(error) > ERROR_SHOWN else ""),
        "circuit": _circuit(request, peer.host),
        "failing": peer.failing,
    }


def _notice(request: web.Request) -> str | None:
    host, count = request.query.get("retried", ""), request.query.get("n", "")
    if not HOST_RE.fullmatch(host) or not count.isdigit():
        return None
    notice = f"{count} deliveries to {host} are due now."
    if request.query.get("probe"):
        notice += " Its circuit was open: one goes first as a probe, the rest follow if it lands."
    return notice


async def deliveries_page(
    request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        counts = await jobs.delivery_stats(session)
        health = await peers.peer_health(session, limit=PEERS_SHOWN)
    context = {
        "counts": [(str(state), n) for state, n in counts.items()],
        "peers": [_peer(request, peer) for peer in health],
        "worker_here": request.app.get(DELIVERY_WORKER) is not None,
        "errors": errors or {},
        "notice": _notice(request),
        "shown": PEERS_SHOWN,
    }
    return render(request, "console/server_deliveries.html", context, status=status)


async def deliveries_get(request: web.Request) -> web.StreamResponse:
    return await deliveries_page(request)


async def retry_now(request: web.Request) -> web.StreamResponse:
    """The peer's undone deliveries are due now; the worker here is woken, and an open
    circuit lets its next delivery through as the probe."""
    await require_admin(request)
    host = str((await request.post()).get("host", "")).strip().lower()
    if not HOST_RE.fullmatch(host):
        return await deliveries_page(request, errors={"host": "Which server?"}, status=400)
    async with request.app[SESSIONS].begin() as session:
        retried = await peers.retry_host_now(session, host, utcnow())
        if retried.total:
            detail = f"{host}: {retried.waiting} waiting, {retried.failed} failed"
            await audit(request, "deliveries.retry", detail=detail, session=session)
    if not retried.total:
        error = {"host": f"No delivery to {host} is waiting or failed."}
        return await deliveries_page(request, errors=error, status=400)
    worker = request.app.get(DELIVERY_WORKER)
    probe = worker is not None and worker.breakers.retry_now(host, worker.clock())
    if worker is not None:
        worker.wake()
    return redirect(
        f"{DELIVERIES}?retried={host}&n={retried.total}" + ("&probe=1" if probe else "")
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get(DELIVERIES, deliveries_get)
    app.router.add_post(DELIVERIES + "/retry", retry_now)
    add_page(app, "Deliveries", DELIVERIES, "server")
