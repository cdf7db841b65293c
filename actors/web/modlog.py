"""The public moderation log of a community (``/c/{slug}/modlog``): what its coordinators
and its rules held, rejected, removed, banned, when, by which role, and why. Browsers get
the page; anyone else JSON (``{"community", "items", "next"}``), fifty lines at a time,
newest first, the next page by ``?before=ID``. The coordinator's name shows only when the
community chose so (``modlog_names``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors import urls as routes
from actors.community import Community
from actors.moderation.modlog import LogLine, public_log
from actors.store import queries
from actors.web.keys import SESSIONS, URLS
from actors.web.negotiation import json_response, wants_html
from federation.errors import BadRequest, NotFound

PAGE_SIZE = 50
ID_MAX = 2**31 - 1  # an int4 id
ACTIONS = {
    "held": "held a post",
    "approved": "approved a post",
    "rejected": "rejected a post",
    "removed": "removed a post",
    "restored": "restored a post",
    "locked": "locked a thread",
    "unlocked": "unlocked a thread",
    "banned": "banned",
    "unbanned": "lifted the ban on",
    "coordinator_added": "made a coordinator:",
    "coordinator_removed": "removed a coordinator:",
    "reported": "reported to its server",
}
ROLES = {
    "coordinator": "A coordinator",
    "admin": "An admin",
    "operator": "The server's operator",
    "policy": "The community's rules",
    "filter": "A filter",
}


def action_words(action: str) -> str:
    """What a line's action says in words (an action this page does not know, as named)."""
    return ACTIONS.get(action, action.replace("_", " "))


def who_words(line: LogLine) -> str:
    """Who decided: the role, and the name when the community shows names."""
    role = ROLES.get(line.role, line.role.capitalize() or "Someone")
    return f"{role} ({line.moderator})" if line.moderator else role


@dataclass(frozen=True)
class Shown:
    """A line as the page shows it."""

    line: LogLine
    who: str
    action: str


def before_of(request: web.Request) -> int | None:
    raw = request.query.get("before")
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= ID_MAX + 1:
        raise BadRequest("before must be the id of a line of the log")
    return int(raw)


async def modlog(request: web.Request) -> web.StreamResponse:
    slug, before = request.match_info["slug"], before_of(request)
    async with request.app[SESSIONS]() as session:
        # read now, not from the directory's cache: names hidden are hidden at once
        community = await queries.get_community(session, slug)
        if community is None:
            raise NotFound(f"no community named {slug!r}")
        lines = await public_log(session, community, before=before, limit=PAGE_SIZE + 1)
    more, lines = len(lines) > PAGE_SIZE, lines[:PAGE_SIZE]
    urls = request.app[URLS]
    here = urls.community_modlog(community.slug)
    query = f"?before={lines[-1].id}" if more else None
    if wants_html(request):
        older = request.path + query if query else None
        response = _page(request, community, lines, older=older, first=before is None)
    else:
        body: dict[str, Any] = {
            "community": urls.community(community.slug),
            "items": [line.to_json() for line in lines],
            "next": here + query if query else None,
        }
        response = json_response(body)
    response.headers["Vary"] = "Accept"
    return response


def _page(
    request: web.Request,
    community: Community,
    lines: list[LogLine],
    *,
    older: str | None,
    first: bool,
) -> web.Response:
    urls = request.app[URLS]
    context = {
        "community": community,
        "community_url": urls.community(community.slug),
        "here": urls.community_modlog(community.slug),
        "lines": [Shown(line, who_words(line), action_words(line.action)) for line in lines],
        "older": older,
        "first": first,
    }
    return aiohttp_jinja2.render_template("modlog.html", request, context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY_MODLOG, modlog)
