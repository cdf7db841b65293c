"""The HTML page of each item: a story or post, a practice with its history, an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors.content import ItemKind, tags_of
from actors.store import pages_queries, participation, queries, threads
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls
from actors.web.keys import SESSIONS, URLS
from actors.web.present import event_view, history, person, status_label
from actors.web.thread_view import conversation, count

REPLIES_SHOWN = 500
REPLY_SUFFIX = "/reply"  # POST: reply from your server (actors/web/conversations.py)
PARTICIPANTS_SHOWN = 200
OCCURRENCES_SHOWN = 5


def oid_of(row: ObjectRow) -> str:
    return row.ap_id.rstrip("/").rsplit("/", 1)[-1]


def reply_url(urls: Urls, slug: str, row: ObjectRow) -> str:
    """Where an item's page posts "Reply from your server": under the community's own item
    at its id, under ``/c/SLUG/thread`` for a member's post."""
    if row.local:
        return urls.object(slug, oid_of(row)) + REPLY_SUFFIX
    return urls.community_thread(slug, row.ap_id, suffix=REPLY_SUFFIX)


async def render_item(
    request: web.Request,
    row: ObjectRow,
    *,
    status: int = 200,
    reply_error: str | None = None,
    account: str | None = None,
) -> web.Response:
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        community = await queries.get_community_by_id(session, row.community_id)
        assert community is not None  # objects are deleted with their community
        root = row.thread_root or row.ap_id
        posts = await threads.thread_posts(session, root, limit=REPLIES_SHOWN)
        people = {row.attributed_to, *(p.attributed_to for p in posts)}
        context: dict[str, Any] = {
            "item": row,
            "community": community,
            "urls": urls,
            "status_label": status_label,
            "reply_url": reply_url(urls, community.slug, row),
            "reply_error": reply_error,
            "account": account,
        }
        template, named = await _kind_context(session, urls, community.slug, row, context)
        people |= named
        known = await participation.known_actors(session, sorted(people))
    context["author"] = person(row.attributed_to, known)
    tree = conversation(posts, row.ap_id, known)
    if len(tree) == 1 and tree[0].current:  # the page's item leads its thread
        tree = tree[0].children
    context["thread"] = tree
    context["thread_count"] = count(tree)
    if "revisions" in context:
        context["history"] = history(context.pop("revisions"), known)
    if "participants" in context:
        context["participants"] = [person(a, known) for a in context["participants"]]
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Vary"] = "Accept"  # the same URL serves the object's JSON
    return response


async def _kind_context(
    session: AsyncSession, urls: Urls, slug: str, row: ObjectRow, context: dict[str, Any]
) -> tuple[str, set[str]]:
    """The template of ``row``'s page and the people its kind names besides the thread's:
    a practice's tags and revisions, an event's dates and who joins it (put in ``context``)."""
    if row.kind == ItemKind.PRACTICE:
        context["tags"] = [(tag, urls.community_tag(slug, tag)) for tag in tags_of(row.ap_json)]
        revisions = await pages_queries.revisions(session, row.id)
        context["revisions"] = revisions
        return "practice.html", {r.editor for r in revisions}
    if row.kind == ItemKind.EVENT:
        details = await pages_queries.event_details(session, row.id)
        if details is not None:
            joined, total = await pages_queries.participants(
                session, row.id, limit=PARTICIPANTS_SHOWN
            )
            context["event"] = event_view(
                pages_queries.event_facts(row, details),
                datetime.now(UTC),
                count=OCCURRENCES_SHOWN,
            )
            context["participants"] = joined
            context["participants_total"] = total
            context["ics_url"] = urls.event_calendar(slug, oid_of(row))
            return "event.html", set(joined)
    return "object.html", set()
