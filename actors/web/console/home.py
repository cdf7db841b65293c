"""The console's landing page: the person's communities (each community's home is its
dashboard, ``dashboard.py``)."""

from __future__ import annotations

from aiohttp import web

from actors.accounts import coordinators
from actors.urls import CONSOLE
from actors.web.console.auth import render, require_account
from actors.web.keys import SESSIONS


async def landing(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    async with request.app[SESSIONS]() as session:
        communities = await coordinators.communities_of(session, who.account)
    return render(request, "console/home.html", {"communities": communities})


def setup_routes(app: web.Application) -> None:
    app.router.add_get(CONSOLE, landing)
    app.router.add_get(CONSOLE + "/", landing)
