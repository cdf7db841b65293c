"""Who takes part in one of a community's events (accepted Joins, in the order they
joined): ``copub participants`` in the console, linked from the People page."""

from __future__ import annotations

from aiohttp import web

from actors.publishing.common import NotPublished, local_object
from actors.store import participation
from actors.store import practice as items
from actors.web.console.account import when
from actors.web.console.auth import render, require_community
from actors.web.console.people import PEOPLE, page_number
from actors.web.keys import SESSIONS, URLS
from actors.web.present import person

PARTICIPANTS = PEOPLE + "/events/{item}"
PAGE_SIZE = 100


async def participants(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        try:
            row = await local_object(
                session, request.app[URLS], community, request.match_info["item"], "event"
            )
        except NotPublished:
            raise web.HTTPNotFound() from None
        detail = await items.get_event_detail(session, row.id)
        total = await items.count_participants(session, row.id)
        joined = await items.list_participants(
            session, row.id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        known = await participation.known_actors(session, [p.actor_id for p in joined])
    context = {
        "event": row,
        "start": when(detail.start_time) if detail is not None else "",
        "capacity": detail.capacity if detail is not None else None,
        "total": total,
        "people": [(person(p.actor_id, known), when(p.created_at)) for p in joined],
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "console/participants.html", context, community=community)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PARTICIPANTS, participants)
