"""A community's dashboard in the console (``/console/c/{slug}``): its followers, recent
items and replies, upcoming events, links, deliveries, and the panels plugins add (the
Discourse mirror's status).

A handful of bounded queries (``actors.store.dashboard``, ``actors.store.pages_queries``),
whatever the number of followers, items or deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors.content import ItemKind
from actors.hooks import Panel
from actors.html import plain_text
from actors.store import dashboard as reads
from actors.store import links as link_reads
from actors.store import pages_queries
from actors.store import peers as peer_reads
from actors.store.pages_queries import ItemSummary
from actors.urls import CONSOLE_COMMUNITY
from actors.web.console.auth import render, require_community, state_of
from actors.web.keys import DASHBOARD_PANELS, SESSIONS
from actors.web.present import EventView, soonest

SHOWN = 5  # recent items, replies, upcoming events
PEERS_SHOWN = 10  # failing peers
LINKS_SHOWN = 50
EXCERPT = 160  # characters of a reply

ITEM_KINDS = (ItemKind.STORY, ItemKind.PRACTICE, ItemKind.EVENT)
REPLY_KINDS = (ItemKind.POST, ItemKind.REPLY)
RECENT = {kind: (SHOWN, kind in REPLY_KINDS) for kind in (*ITEM_KINDS, *REPLY_KINDS)}


@dataclass(frozen=True)
class Upcoming:
    event: EventView
    participants: int


def _newest(found: dict[ItemKind, list[ItemSummary]], kinds: tuple[ItemKind, ...]
            ) -> list[ItemSummary]:  # fmt: skip
    merged = [item for kind in kinds for item in found[kind]]
    merged.sort(key=lambda item: item.published, reverse=True)
    return merged[:SHOWN]


async def dashboard(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    now = state_of(request).clock.now()
    async with request.app[SESSIONS]() as session:
        counts = await reads.counts(session, community.id)
        recent = await pages_queries.recent_by_kind(session, community.id, RECENT)
        candidates = await pages_queries.upcoming_event_candidates(
            session, community.id, now, limit=SHOWN
        )
        events = soonest(candidates, now, SHOWN)
        joined = await reads.participant_counts(session, [e.facts.object_id for e in events])
        links = await reads.links(session, community.id, limit=LINKS_SHOWN)
        incoming = await link_reads.incoming_links(session, community.id)
        peers = await peer_reads.peer_health(session, limit=PEERS_SHOWN, community_id=community.id)
        panels: list[Panel] = []
        for source in request.app[DASHBOARD_PANELS]:
            panel = await source.dashboard_panel(session, community)
            if panel is not None:
                panels.append(panel)
    context: dict[str, Any] = {
        "counts": counts,
        "items": _newest(recent, ITEM_KINDS),
        "replies": [
            (reply, plain_text(reply.content_html or "", EXCERPT))
            for reply in _newest(recent, REPLY_KINDS)
        ],
        "upcoming": [Upcoming(e, joined.get(e.facts.object_id, 0)) for e in events],
        "links": links,
        "incoming": [actor for _follower, actor in incoming],
        "peers": [peer for peer in peers if peer.failing],
        "panels": panels,
    }
    return render(request, "console/dashboard.html", context, community=community)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(CONSOLE_COMMUNITY, dashboard)
