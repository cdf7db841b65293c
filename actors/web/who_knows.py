"""The who-knows page (``/c/{slug}/who-knows``): for each hashtag of the community's
practices, the members who wrote, revised or discussed them here (actors/whoknows.py), and
how to be left out."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors import urls as routes
from actors.content import tags_of
from actors.store import links as people
from actors.store import whoknows as store
from actors.web import network_graph
from actors.web.keys import DIRECTORY, SESSIONS, SETTINGS, URLS
from actors.whoknows import OPT_IN, OPT_OUT, Role, topics

ROLE_WORDS = {Role.WROTE: "wrote", Role.REVISED: "revised", Role.DISCUSSED: "discussed"}


def _roles(roles: dict[Role, int]) -> str:
    """``wrote 1, discussed 3``"""
    return ", ".join(f"{ROLE_WORDS[role]} {roles[role]}" for role in Role if role in roles)


def _topics_of(document: dict[str, Any], filing: set[str]) -> tuple[str, ...]:
    """A practice's hashtags but the ones that filed it as a practice (#practice)."""
    return tuple(tag for tag in tags_of(document) if tag not in filing)


async def who_knows_page(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    urls = request.app[URLS]
    me = urls.community(community.slug)
    content = request.app[SETTINGS].content
    filing = {*content.practice_tags, *content.event_tags}
    async with request.app[SESSIONS]() as session:
        rows = await store.practices(session, community.id)
        found = await store.contributions(session, community.id, me, rows)
        left_out = await store.left_out(session, community.id)
        tags = {row.ap_id: _topics_of(row.ap_json, filing) for row in rows}
        shown = topics(tags, found, left_out)
        actors = sorted({p.actor for topic in shown for p in topic.people})
        known = await people.remote_actors(session, actors)
    titles = {row.ap_id: row.title or "A practice" for row in rows}
    context: dict[str, Any] = {
        "community": community,
        "community_url": me,
        "practices_url": urls.community_practices(community.slug),
        "handle": urls.handle(community.slug),
        "opt_out": OPT_OUT,
        "opt_in": OPT_IN,
        "topics": [
            {
                "tag": topic.tag,
                "url": urls.community_tag(community.slug, topic.tag),
                "practices": [(p, titles[p]) for p in topic.practices[:5]],
                "more_practices": max(len(topic.practices) - 5, 0),
                "people": [
                    {**network_graph.describe(p.actor, known), "roles": _roles(p.roles)}
                    for p in topic.people
                ],
                "more": topic.more,
            }
            for topic in shown
        ],
    }
    return aiohttp_jinja2.render_template("who_knows.html", request, context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY_WHO_KNOWS, who_knows_page)
