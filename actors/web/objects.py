"""Each object at its own URL (JSON or HTML), its replies, and each activity."""

from __future__ import annotations

from aiohttp import web

from actors import urls as routes
from actors.store import social, threads
from actors.store.models import ObjectRow
from actors.web import conversations
from actors.web.item_pages import render_item
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from actors.web.negotiation import activity_response, wants_html
from federation.clock import as2_time
from federation.collections import collection_page, collection_root, parse_page
from federation.errors import NotFound
from federation.vocab import AS_CONTEXT

REPLIES_PAGE = 50
CONTEXT_PAGE = 50


async def _object(request: web.Request) -> ObjectRow:
    slug, oid = request.match_info["slug"], request.match_info["oid"]
    community = await request.app[DIRECTORY].require(slug)
    async with request.app[SESSIONS]() as session:
        row = await social.get_object(session, request.app[URLS].object(slug, oid))
    if row is None or row.community_id != community.id:
        raise NotFound("no such item")
    return row


def tombstone(row: ObjectRow) -> web.Response:
    assert row.deleted_at is not None
    return activity_response(
        {
            "@context": AS_CONTEXT,
            "id": row.ap_id,
            "type": "Tombstone",
            "formerType": row.ap_type,
            "deleted": as2_time(row.deleted_at),
        },
        status=410,
    )


async def object_view(request: web.Request) -> web.StreamResponse:
    row = await _object(request)
    if row.deleted_at is not None:
        if wants_html(request):
            raise web.HTTPGone(reason="This item was deleted.")
        return tombstone(row)
    if not wants_html(request):
        document = row.ap_json
        if row.local and "context" not in document:  # published before items carried it
            slug, oid = request.match_info["slug"], request.match_info["oid"]
            document = {**document, "context": request.app[URLS].object_context(slug, oid)}
        return activity_response(document)
    return await render_item(request, row)


async def replies_collection(request: web.Request) -> web.StreamResponse:
    row = await _object(request)
    collection_id = request.app[URLS].object_replies(
        request.match_info["slug"], request.match_info["oid"]
    )
    page = parse_page(request.query.get("page"))
    async with request.app[SESSIONS]() as session:
        total = await social.count_replies(session, row.ap_id)
        if page is None:
            return activity_response(collection_root(collection_id, total, page_size=REPLIES_PAGE))
        replies = await social.list_replies(
            session, row.ap_id, offset=(page - 1) * REPLIES_PAGE, limit=REPLIES_PAGE
        )
    return activity_response(
        collection_page(
            collection_id, page, [r.ap_id for r in replies], total, page_size=REPLIES_PAGE
        )
    )


async def context_collection(request: web.Request) -> web.StreamResponse:
    """The conversation under an item (FEP-7888): the item and every post of its thread,
    oldest first, as NodeBB and Discourse serve a topic; inline when it fits one page."""
    row = await _object(request)
    if row.deleted_at is not None:
        raise NotFound("no such item")
    slug, oid = request.match_info["slug"], request.match_info["oid"]
    urls = request.app[URLS]
    collection_id = urls.object_context(slug, oid)
    page = parse_page(request.query.get("page"))
    async with request.app[SESSIONS]() as session:
        total = await threads.count_thread(session, row.ap_id)
        inline = page is None and total <= CONTEXT_PAGE
        offset = 0 if page is None else (page - 1) * CONTEXT_PAGE
        posts = (
            []
            if page is None and not inline
            else await threads.thread_posts(session, row.ap_id, offset=offset, limit=CONTEXT_PAGE)
        )
    about = {"attributedTo": urls.community(slug), "audience": urls.community(slug)}
    if page is not None:
        document = collection_page(
            collection_id, page, [p.ap_id for p in posts], total, page_size=CONTEXT_PAGE
        )
    elif inline:
        document = {
            "@context": AS_CONTEXT,
            "id": collection_id,
            "type": "OrderedCollection",
            "totalItems": total,
            "orderedItems": [p.ap_id for p in posts],
        }
    else:
        document = collection_root(collection_id, total, page_size=CONTEXT_PAGE)
    if page is None:
        document.update(about, url=row.ap_id)
        if row.title:
            document["name"] = row.title
    return activity_response(document)


async def activity_view(request: web.Request) -> web.StreamResponse:
    slug, aid = request.match_info["slug"], request.match_info["aid"]
    async with request.app[SESSIONS]() as session:
        row = await social.get_activity(session, request.app[URLS].activity(slug, aid))
    if row is None or not row.public:
        raise NotFound("no such activity")
    return activity_response(row.ap_json)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY_OBJECT, object_view)
    app.router.add_get(routes.COMMUNITY_OBJECT_REPLIES, replies_collection)
    app.router.add_get(routes.COMMUNITY_OBJECT_CONTEXT, context_collection)
    conversations.setup_routes(app)  # POST .../reply: reply from your server
    app.router.add_get(routes.COMMUNITY_ACTIVITY, activity_view)
