"""``POST /adapters/discourse/{slug}/webhook``: Discourse's webhook, HMAC-checked.

Discourse signs the raw body: ``X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of
the body with the webhook's secret>``. A missing or wrong signature is answered 401 and
nothing is stored. A verified event is stored as a job before the 200 (so a crash loses
nothing) and applied by the job worker.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.discourse import store
from adapters.discourse.events import HANDLED
from adapters.discourse.models import ForumJobKind, WebhookJob
from adapters.discourse.runtime import ForumRuntime, NoCommunity
from federation.wire import parse_json

log = logging.getLogger(__name__)

ROUTE = "/adapters/discourse/{slug}/webhook"
SIGNATURE = "X-Discourse-Event-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def handler(
    runtimes: Callable[[], dict[str, ForumRuntime]], wake: Callable[[], None]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        runtime = runtimes().get(slug)
        if runtime is None:
            return _error(404, f"no Discourse forum is connected to community {slug!r}")
        body = await request.read()
        if not verify(runtime.forum.webhook_secret, body, request.headers.get(SIGNATURE)):
            log.warning(
                "Discourse webhook for %s refused: bad or missing signature",
                slug,
                extra={"community": slug, "remote": request.remote},
            )
            return _error(401, f"bad or missing {SIGNATURE}")
        event = request.headers.get("X-Discourse-Event", "")
        event_id = request.headers.get("X-Discourse-Event-Id", "")
        try:
            payload = parse_json(body)
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "the body must be a JSON object")
        if event == "ping" or event not in HANDLED:
            return web.json_response({"ok": True, "event": event, "queued": False})
        try:
            community = await runtime.community()
        except NoCommunity as exc:
            return _error(404, str(exc))
        async with runtime.sessions.begin() as session:
            job = await store.enqueue(
                session,
                community.id,
                ForumJobKind.WEBHOOK,
                payload=WebhookJob(event, event_id, payload).to_payload(),
            )
        wake()
        log.info(
            "Discourse %s (event %s) queued as job %d",
            event,
            event_id,
            job.id,
            extra={"community": slug},
        )
        return web.json_response({"ok": True, "event": event, "queued": True})

    return receive
