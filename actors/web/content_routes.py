"""The community's practice as ActivityPub collections: ``stories``, ``practices`` and
``events`` (paged like the outbox), an event's participants, and the items of a hashtag.

The same URLs can serve HTML: a page module registers a renderer by name with
``content_pages(app)["practices"] = render`` (names: stories, practices, events, tag);
browsers get it, ActivityPub clients get the JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from actors import urls as routes
from actors.community import Community
from actors.content import ItemKind
from actors.store import practice as store
from actors.store import social
from actors.store.models import ObjectRow
from actors.web.activitypub import PAGE_SIZE, PageLoader, collection_handler, load_community
from actors.web.keys import SESSIONS, URLS
from actors.web.negotiation import activity_response, wants_html
from federation.collections import collection_page, collection_root, parse_page
from federation.errors import NotFound

HtmlRenderer = Callable[[web.Request, Community], Awaitable[web.StreamResponse]]
CONTENT_PAGES: web.AppKey[dict[str, HtmlRenderer]] = web.AppKey("content_pages")
PARTICIPANTS_PAGE = 100


def content_pages(app: web.Application) -> dict[str, HtmlRenderer]:
    """The HTML renderers of the collection URLs, by name (register before the app starts)."""
    if CONTENT_PAGES not in app:
        app[CONTENT_PAGES] = {}
    return app[CONTENT_PAGES]


def item_of(row: ObjectRow) -> Any:
    """Our own items embedded whole; members' items by id (peers fetch them from their
    origin, which is the authority on them)."""
    return row.ap_json if row.local else row.ap_id


def kind_loader(app: web.Application, kinds: tuple[str, ...]) -> PageLoader:
    async def load(community: Community, page: int, size: int) -> tuple[list[Any], int]:
        async with app[SESSIONS]() as session:
            total = await store.count_items(session, community.id, kinds)
            if not size:
                return [], total
            if kinds == (ItemKind.EVENT,):
                pairs = await store.list_events(
                    session, community.id, offset=(page - 1) * size, limit=size
                )
                rows = [row for row, _detail in pairs]
            else:
                rows = await store.list_items(
                    session, community.id, kinds, offset=(page - 1) * size, limit=size
                )
        return [item_of(r) for r in rows], total

    return load


def with_html(
    name: str, json_handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        render = request.app.get(CONTENT_PAGES, {}).get(name)
        if render is not None and wants_html(request):
            return await render(request, await load_community(request))
        response = await json_handler(request)
        response.headers["Vary"] = "Accept"
        return response

    return handler


async def participants_collection(request: web.Request) -> web.StreamResponse:
    """FEP-8a8e ``attendees``: the actors whose Join was accepted, in order of joining."""
    community = await load_community(request)
    urls = request.app[URLS]
    oid = request.match_info["oid"]
    collection_id = urls.object_participants(community.slug, oid)
    page = parse_page(request.query.get("page"))
    async with request.app[SESSIONS]() as session:
        row = await social.get_object(session, urls.object(community.slug, oid))
        if row is None or row.community_id != community.id or row.kind != ItemKind.EVENT:
            raise NotFound("no such event")
        total = await store.count_participants(session, row.id)
        if page is None:
            return activity_response(
                collection_root(collection_id, total, page_size=PARTICIPANTS_PAGE)
            )
        rows = await store.list_participants(
            session, row.id, offset=(page - 1) * PARTICIPANTS_PAGE, limit=PARTICIPANTS_PAGE
        )
    items = [p.actor_id for p in rows]
    return activity_response(
        collection_page(collection_id, page, items, total, page_size=PARTICIPANTS_PAGE)
    )


async def tag_collection(request: web.Request) -> web.StreamResponse:
    """The community's own items carrying a hashtag, newest first."""
    community = await load_community(request)
    tag = request.match_info["tag"].lstrip("#").lower()
    collection_id = request.app[URLS].community_tag(community.slug, tag)
    page = parse_page(request.query.get("page"))
    async with request.app[SESSIONS]() as session:
        rows = await store.tagged_items(session, community.id, tag)
    if page is None:
        return activity_response(collection_root(collection_id, len(rows), page_size=PAGE_SIZE))
    chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return activity_response(
        collection_page(
            collection_id, page, [item_of(r) for r in chunk], len(rows), page_size=PAGE_SIZE
        )
    )


def setup_routes(app: web.Application) -> None:
    for name, template, build, kinds in (
        ("stories", routes.COMMUNITY_STORIES, routes.Urls.community_stories, (ItemKind.STORY,)),
        (
            "practices",
            routes.COMMUNITY_PRACTICES,
            routes.Urls.community_practices,
            (ItemKind.PRACTICE,),
        ),
        ("events", routes.COMMUNITY_EVENTS, routes.Urls.community_events, (ItemKind.EVENT,)),
    ):
        app.router.add_get(
            template, with_html(name, collection_handler(build, kind_loader(app, kinds)))
        )
    app.router.add_get(routes.COMMUNITY_OBJECT_PARTICIPANTS, participants_collection)
    app.router.add_get(routes.COMMUNITY_TAG, with_html("tag", tag_collection))
