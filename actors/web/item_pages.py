"""The HTML page of each item: a story or post, a practice with its history, an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors.content import ItemKind
from actors.store import pages_queries, participation, queries, social
from actors.store.models import ObjectRow
from actors.web.keys import SESSIONS, URLS
from actors.web.present import event_view, history, person, status_label

REPLIES_SHOWN = 500
PARTICIPANTS_SHOWN = 200
OCCURRENCES_SHOWN = 5


def oid_of(row: ObjectRow) -> str:
    return row.ap_id.rstrip("/").rsplit("/", 1)[-1]


async def render_item(request: web.Request, row: ObjectRow) -> web.Response:
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        community = await queries.get_community_by_id(session, row.community_id)
        assert community is not None  # objects are deleted with their community
        replies = await social.list_replies(session, row.ap_id, limit=REPLIES_SHOWN)
        people = {row.attributed_to, *(r.attributed_to for r in replies)}
        context: dict[str, Any] = {
            "item": row,
            "community": community,
            "urls": urls,
            "status_label": status_label,
        }
        template = "object.html"
        if row.kind == ItemKind.PRACTICE:
            template = "practice.html"
            revisions = await pages_queries.revisions(session, row.id)
            people |= {r.editor for r in revisions}
            context["revisions"] = revisions
        elif row.kind == ItemKind.EVENT:
            details = await pages_queries.event_details(session, row.id)
            if details is not None:
                template = "event.html"
                joined, total = await pages_queries.participants(
                    session, row.id, limit=PARTICIPANTS_SHOWN
                )
                people |= set(joined)
                context["event"] = event_view(
                    pages_queries.event_facts(row, details),
                    datetime.now(UTC),
                    count=OCCURRENCES_SHOWN,
                )
                context["participants"] = joined
                context["participants_total"] = total
                context["ics_url"] = urls.event_calendar(community.slug, oid_of(row))
        known = await participation.known_actors(session, sorted(people))
    context["author"] = person(row.attributed_to, known)
    context["replies"] = [(reply, person(reply.attributed_to, known)) for reply in replies]
    if "revisions" in context:
        context["history"] = history(context.pop("revisions"), known)
    if "participants" in context:
        context["participants"] = [person(a, known) for a in context["participants"]]
    response = aiohttp_jinja2.render_template(template, request, context)
    response.headers["Vary"] = "Accept"  # the same URL serves the object's JSON
    return response
