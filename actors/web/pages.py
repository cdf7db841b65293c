"""HTML pages for people: the index, the follow form, interaction hints.

The community page itself is built in community_page.py (``render_community``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from actors.store import queries
from actors.web.community_page import render_community
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from federation.errors import FederationError

log = logging.getLogger(__name__)

# account ("you@server") -> the OStatus subscribe template of that account's server
SubscribeLookup = Callable[[str], Awaitable[str]]
SUBSCRIBE_LOOKUP: web.AppKey[SubscribeLookup] = web.AppKey("subscribe_lookup")


async def index(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        communities = await queries.list_communities(session)
    return aiohttp_jinja2.render_template(
        "index.html",
        request,
        {
            "domain": urls.domain,
            "communities": [
                {
                    "name": c.name,
                    "url": urls.community(c.slug),
                    "handle": urls.handle(c.slug),
                    "closed": c.closed,
                    "summary": c.summary.split("\n\n", 1)[0],
                }
                for c in communities
            ],
        },
    )


async def remote_follow(request: web.Request) -> web.StreamResponse:
    """``you@your.server`` -> redirect to that server's subscribe page for this community."""
    slug = request.match_info["slug"]
    urls = request.app[URLS]
    community = await request.app[DIRECTORY].require(slug)
    form = await request.post()
    account = str(form.get("account", "")).strip().lstrip("@")
    template, error = await interaction_template(request, account)
    if template is not None:
        raise web.HTTPSeeOther(template.replace("{uri}", urls.handle(slug)))
    return await render_community(request, community, status=400, error=error, account=account)


async def interaction_template(
    request: web.Request, account: str
) -> tuple[str, None] | tuple[None, str]:
    """The OStatus subscribe template of ``account``'s server (``you@your.server``), or
    why there is none, as the form says it."""
    if "@" not in account or account.startswith("@") or account.endswith("@"):
        return None, "Enter your account as you@your.server."
    try:
        return await request.app[SUBSCRIBE_LOOKUP](account), None
    except FederationError as exc:
        log.info("remote interaction lookup failed for %s: %s", account, exc.reason)
        return None, f"Could not find {account}: {exc.reason}"


async def authorize_interaction(request: web.Request) -> web.Response:
    uri = request.query.get("uri", "")
    return aiohttp_jinja2.render_template("interaction.html", request, {"uri": uri})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/c/{slug}/follow", remote_follow)
    app.router.add_get("/authorize_interaction", authorize_interaction)
