"""The console's landing page (the person's communities) and a community's home in it."""

from __future__ import annotations

from aiohttp import web

from actors.accounts import coordinators
from actors.urls import CONSOLE, CONSOLE_COMMUNITY
from actors.web.console.auth import render, require_account, require_community
from actors.web.keys import SESSIONS


async def landing(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    async with request.app[SESSIONS]() as session:
        communities = await coordinators.communities_of(session, who.account)
    return render(request, "console/home.html", {"communities": communities})


async def community_home(request: web.Request) -> web.StreamResponse:
    """The community's first console page (the pages registered for communities are
    linked from it and from the navigation)."""
    _who, community = await require_community(request, request.match_info["slug"])
    return render(request, "console/community.html", community=community)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(CONSOLE, landing)
    app.router.add_get(CONSOLE + "/", landing)
    app.router.add_get(CONSOLE_COMMUNITY, community_home)
