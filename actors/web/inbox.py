"""The inbox routes: per community and shared."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from actors import urls as routes
from actors.store import inbox_queue
from actors.web.keys import (
    DIRECTORY,
    INBOX_PROCESSOR,
    INBOX_WRITER,
    KEY_RESOLVER,
    SETTINGS,
    URLS,
)
from federation import inbox


async def _receive(request: web.Request, slug: str | None) -> web.Response:
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
    request.app[INBOX_PROCESSOR].notify()
    return response


async def community_inbox(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    await request.app[DIRECTORY].require(slug)
    return await _receive(request, slug)


async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request, None)


def setup_routes(app: web.Application) -> None:
    app.router.add_post(routes.COMMUNITY_INBOX, community_inbox)
    app.router.add_post(routes.SHARED_INBOX, shared_inbox)
