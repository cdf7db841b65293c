"""The community page: its domain, events, stories, practices, people, and the follow form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors.circles import derive_circles, window_start
from actors.community import Community, summary_html
from actors.content import ItemKind
from actors.settings import ParticipationSettings
from actors.store import pages_queries, participation, social
from actors.store.db import AsyncSession
from actors.store.states import FollowerState
from actors.web.keys import CIRCLES, SESSIONS, SETTINGS, URLS
from actors.web.network import linked_context
from actors.web.present import CirclesView, person, soonest, status_label
from actors.web.value_matrix import value_context

SHOWN = 10  # items per section
# the sections of recent items: how many of each kind, and with their content or not
RECENT = {
    ItemKind.STORY: (SHOWN, False),
    ItemKind.PRACTICE: (SHOWN, False),
    ItemKind.POST: (SHOWN, True),
}


async def _circles(
    session: AsyncSession, community: Community, settings: ParticipationSettings, now: datetime
) -> CirclesView:
    """The circles with the names of the coordinators, the core and the active ring."""
    people = await participation.participations(session, community.id, window_start(now, settings))
    followers = await social.count_followers(session, community.id, state=FollowerState.ACCEPTED)
    circles = derive_circles(people, settings, followers_total=followers)
    coordinators = [p.actor_id for p in people if p.coordinator]
    core = circles.core[: settings.max_listed]
    active = circles.active[: settings.max_listed]
    named = {m.actor_id for m in (*core, *active)} | set(coordinators)
    known = await participation.known_actors(session, sorted(named))
    return CirclesView(
        coordinators=tuple(person(a, known) for a in coordinators),
        core=tuple((person(m.actor_id, known), m) for m in core),
        active=tuple((person(m.actor_id, known), m) for m in active),
        more_core=len(circles.core) - len(core),
        more_active=len(circles.active) - len(active),
        peripheral=circles.peripheral,
        transactional=circles.transactional,
        window_days=settings.window_days,
    )


async def community_context(request: web.Request, community: Community) -> dict[str, Any]:
    urls = request.app[URLS]
    settings = request.app[SETTINGS].participation
    cache = request.app[CIRCLES]
    now = datetime.now(UTC)
    slug = community.slug
    async with request.app[SESSIONS]() as session:
        recent = await pages_queries.recent_by_kind(session, community.id, RECENT)
        stories, practices, posts = (recent[kind] for kind in RECENT)
        candidates = await pages_queries.upcoming_event_candidates(
            session, community.id, now, limit=SHOWN
        )
        circles = cache.get(community.id)
        if circles is None:
            circles = await _circles(session, community, settings, now)
            cache.put(community.id, circles)
        authors = await participation.known_actors(
            session, sorted({p.attributed_to for p in posts})
        )
    return {
        "community": community,
        "summary_html": summary_html(community.summary),
        "handle": urls.handle(slug),
        "actor_url": urls.community(slug),
        "follow_url": urls.community_remote_follow(slug),
        "atom_url": urls.community_atom(slug),
        "rss_url": urls.community_rss(slug),
        "calendar_url": urls.community_calendar(slug),
        "webcal_url": urls.community_webcal(slug),
        # the email digest's subscribe form, when [email] is set (actors/web/digest_pages.py)
        "digest_url": urls.community_digest(slug) if request.app[SETTINGS].email.enabled else "",
        "digest_atom_url": urls.community_digest_atom(slug),
        "events": soonest(candidates, now, SHOWN),
        "stories": stories,
        "practices": practices,
        "posts": [(post, person(post.attributed_to, authors)) for post in posts],
        "circles": circles,
        "status_label": status_label,
        "urls": urls,
        "shown": SHOWN,
    }


async def render_community(
    request: web.Request, community: Community, *, status: int = 200, **extra: object
) -> web.Response:
    context = await community_context(request, community)
    context.update(await linked_context(request, community))  # from linked communities
    context.update(await value_context(request, community))  # the value-creation matrix
    context.update(extra)
    response = aiohttp_jinja2.render_template("community.html", request, context, status=status)
    response.headers["Vary"] = "Accept"  # the same URL serves the actor document
    return response
