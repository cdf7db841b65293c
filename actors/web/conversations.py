"""Whole conversations on the web side: the schedule that looks again at held threads
(actors/threads/refresh.py), started with the app, and "Reply from your server" on a
thread's page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

from aiohttp import web

from actors.content import ItemKind
from actors.hooks import ObjectObserver
from actors.store import social
from actors.store.db import AsyncSession, in_background
from actors.store.models import ObjectRow
from actors.threads.refresh import Refresher
from actors.urls import COMMUNITY_OBJECT, COMMUNITY_THREAD
from actors.web.item_pages import REPLY_SUFFIX, render_item
from actors.web.keys import DIRECTORY, OBJECT_OBSERVERS, REMOTE, SESSIONS, SETTINGS, URLS
from actors.web.pages import interaction_template
from actors.web.workers import DELIVERY_WORKER
from federation.errors import NotFound

log = logging.getLogger(__name__)

COMMUNITY_OBJECT_REPLY = COMMUNITY_OBJECT + REPLY_SUFFIX
# what a member's post held here may be, to have a page of its own
THREAD_KINDS = frozenset({ItemKind.POST, ItemKind.REPLY, ItemKind.PRACTICE, ItemKind.EVENT})

THREAD_REFRESHER = web.AppKey("thread_refresher", Refresher)


async def thread_refresh_ctx(app: web.Application) -> AsyncIterator[None]:
    """Look again at recent threads every so often, in the process that runs the delivery
    worker (after ``delivery_worker_ctx``), the one holder of the singleton on PostgreSQL."""
    observers: list[ObjectObserver] = app[OBJECT_OBSERVERS]
    settings = app[SETTINGS].threads
    refresher = Refresher(
        app[SESSIONS],
        app[REMOTE].fetch_object,
        app[URLS].is_local,
        observers=observers,
        settings=settings,
    )
    app[THREAD_REFRESHER] = refresher
    if DELIVERY_WORKER not in app or settings.refresh_minutes <= 0:
        yield
        return
    task = asyncio.create_task(in_background(refresher.run()), name="thread-refresh")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def same_thread(item: ObjectRow, post: ObjectRow) -> bool:
    """Whether ``post`` is in the conversation of ``item`` (as actors.store.threads counts)."""
    root = item.thread_root or item.ap_id
    return root in (post.ap_id, post.thread_root, post.in_reply_to)


async def _page_item(request: web.Request, session: AsyncSession) -> ObjectRow:
    """The item of a page: the community's own (``oid``) or a member's post (``?post=``)."""
    slug = request.match_info["slug"]
    community = await request.app[DIRECTORY].require(slug)
    if "oid" in request.match_info:
        row = await social.get_object(
            session, request.app[URLS].object(slug, request.match_info["oid"])
        )
    else:
        row = await social.get_object(session, request.query.get("post", ""))
        if row is not None and (row.local or row.kind not in THREAD_KINDS):
            row = None
    if row is None or row.community_id != community.id or row.deleted_at is not None:
        raise NotFound("no such item")
    return row


async def thread_page(request: web.Request) -> web.StreamResponse:
    """A member's post held here, with its conversation (the community's own items have
    their page at their id)."""
    async with request.app[SESSIONS]() as session:
        row = await _page_item(request, session)
    return await render_item(request, row)


async def reply_from_your_server(request: web.Request) -> web.StreamResponse:
    """``you@your.server`` -> that server's page to answer a post of this item's thread
    (the OStatus subscribe template, as the follow form uses it)."""
    async with request.app[SESSIONS]() as session:
        row = await _page_item(request, session)
        form = await request.post()
        uri = str(form.get("uri", row.ap_id))
        target = row if uri == row.ap_id else await social.get_object(session, uri)
        if target is None or target.deleted_at is not None or not same_thread(row, target):
            raise NotFound("no such post in this conversation")
    account = str(form.get("account", "")).strip().lstrip("@")
    template, error = await interaction_template(request, account)
    if template is not None:
        raise web.HTTPSeeOther(template.replace("{uri}", quote(uri, safe="")))
    return await render_item(request, row, status=400, reply_error=error, account=account)


def setup_routes(app: web.Application) -> None:
    app.router.add_post(COMMUNITY_OBJECT_REPLY, reply_from_your_server)
    app.router.add_get(COMMUNITY_THREAD, thread_page)
    app.router.add_post(COMMUNITY_THREAD + REPLY_SUFFIX, reply_from_your_server)
