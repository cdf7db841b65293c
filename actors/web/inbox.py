"""The inbox routes: per community and shared."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from actors import inbox
from actors import urls as routes
from actors.web.keys import (
    DIRECTORY,
    INBOX_PROCESSOR,
    INBOX_WRITER,
    KEY_RESOLVER,
    SETTINGS,
    URLS,
)
from actors.web.negotiation import json_response
from federation.errors import NotFound


async def _receive(request: web.Request, slug: str | None) -> web.Response:
    settings = request.app[SETTINGS]
    activity = await inbox.receive(
        request,
        writer=request.app[INBOX_WRITER],
        resolver=request.app[KEY_RESOLVER],
        max_body=settings.federation.max_body_bytes,
        scheme=urlsplit(request.app[URLS].base_url).scheme,
        community_slug=slug,
    )
    request.app[INBOX_PROCESSOR].notify()
    return json_response({"accepted": activity["id"]}, status=202)


async def community_inbox(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if await request.app[DIRECTORY].get(slug) is None:
        raise NotFound(f"no community named {slug!r}")
    return await _receive(request, slug)


async def shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request, None)


def setup_routes(app: web.Application) -> None:
    app.router.add_post(routes.COMMUNITY_INBOX, community_inbox)
    app.router.add_post(routes.SHARED_INBOX, shared_inbox)
