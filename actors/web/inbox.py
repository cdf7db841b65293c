"""The inbox routes: per community and shared."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from actors import urls as routes
from actors.errors import CopubError
from actors.store import inbox_queue
from actors.web.keys import (
    DIRECTORY,
    INBOX_PROCESSOR,
    INBOX_WRITER,
    KEY_RESOLVER,
    SETTINGS,
    URLS,
)
from actors.web.metrics import METRICS
from federation import inbox
from federation.errors import FederationError


async def _receive(request: web.Request, slug: str | None) -> web.Response:
    """Answer the POST; with metrics on, count it as accepted or refused (by status)."""
    metrics = request.app.get(METRICS)
    if metrics is None:
        return await _check_and_store(request, slug)
    try:
        response = await _check_and_store(request, slug)
    except (FederationError, CopubError) as exc:
        metrics.inbox_answered(exc.http_status)
        raise
    except web.HTTPException as exc:
        metrics.inbox_answered(exc.status)
        raise
    except Exception:
        metrics.inbox_answered(500)
        raise
    metrics.inbox_answered(None)
    return response


async def _check_and_store(request: web.Request, slug: str | None) -> web.Response:
    if slug is not None:
        await request.app[DIRECTORY].require(slug)
    limits = inbox.InboxLimits(
        max_body=request.app[SETTINGS].federation.max_body_bytes, max_iri=inbox_queue.MAX_IRI
    )
    response = await inbox.receive(
        request,
        resolver=request.app[KEY_RESOLVER],
        store=request.app[INBOX_WRITER],
        limits=limits,
        scheme=urlsplit(request.app[URLS].base_url).scheme,
        recipient=slug,
    )
    request.app[INBOX_PROCESSOR].arrived()
    return response


async def community_inbox(request: web.Request) -> web.Response:
    return await _receive(request, request.match_info["slug"])


async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request, None)


def setup_routes(app: web.Application) -> None:
    app.router.add_post(routes.COMMUNITY_INBOX, community_inbox)
    app.router.add_post(routes.SHARED_INBOX, shared_inbox)
