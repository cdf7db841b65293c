"""All of a community's stories, practices or events, or the items of a hashtag, page by
page: the HTML side of the collection URLs (``/c/{slug}/stories`` ...), which serve the
ActivityPub collections to peers (actors/web/content_routes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors.community import Community
from actors.content import ItemKind
from actors.store import pages_queries
from actors.store import practice as store
from actors.store.models import ObjectRow
from actors.web.content_routes import content_pages
from actors.web.keys import SESSIONS, URLS
from actors.web.present import EventView, event_view, status_label
from federation.errors import BadRequest

PAGE_SIZE = 20
KINDS = {
    "stories": (ItemKind.STORY,),
    "practices": (ItemKind.PRACTICE,),
    "events": (ItemKind.EVENT,),
}
TITLES = {"stories": "Stories", "practices": "Practices", "events": "Events"}


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest("page must be a positive integer")
    return int(raw)


def _render(
    request: web.Request,
    community: Community,
    *,
    title: str,
    items: list[ObjectRow],
    events: list[EventView],
    page: int,
    more: bool,
) -> web.Response:
    base = request.path
    context: dict[str, Any] = {
        "community": community,
        "urls": request.app[URLS],
        "title": title,
        "items": items,
        "events": events,
        "page": page,
        "newer": f"{base}?page={page - 1}" if page > 1 else None,
        "older": f"{base}?page={page + 1}" if more else None,
        "status_label": status_label,
    }
    response = aiohttp_jinja2.render_template("archive.html", request, context)
    response.headers["Vary"] = "Accept"
    return response


def kind_page(name: str) -> Any:
    kinds = KINDS[name]

    async def render(request: web.Request, community: Community) -> web.StreamResponse:
        page = _page_number(request)
        offset = (page - 1) * PAGE_SIZE
        events: list[EventView] = []
        items: list[ObjectRow] = []
        async with request.app[SESSIONS]() as session:
            total = await store.count_items(session, community.id, kinds)
            if kinds == (ItemKind.EVENT,):
                now = datetime.now(UTC)
                pairs = await store.list_events(
                    session, community.id, offset=offset, limit=PAGE_SIZE
                )
                events = [
                    event_view(pages_queries.event_facts(row, details), now)
                    for row, details in pairs
                    if details is not None
                ]
            else:
                items = await store.list_items(
                    session, community.id, kinds, offset=offset, limit=PAGE_SIZE
                )
        return _render(
            request, community, title=TITLES[name], items=items, events=events, page=page,
            more=offset + PAGE_SIZE < total,
        )  # fmt: skip

    return render


async def tag_page(request: web.Request, community: Community) -> web.StreamResponse:
    page = _page_number(request)
    tag = request.match_info["tag"].lstrip("#").lower()
    async with request.app[SESSIONS]() as session:
        rows = await store.tagged_items(session, community.id, tag)
    chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return _render(
        request, community, title=f"#{tag}", items=chunk, events=[], page=page,
        more=page * PAGE_SIZE < len(rows),
    )  # fmt: skip


def setup(app: web.Application) -> None:
    pages = content_pages(app)
    for name in KINDS:
        pages[name] = kind_page(name)
    pages["tag"] = tag_page
