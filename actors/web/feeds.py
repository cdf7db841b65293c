"""Feeds of a community: Atom and RSS of its stories and practices, iCalendar of its events.

Each answer carries the community's ETag (actors/web/page_cache.py), so a feed reader or
calendar app polling an unchanged feed gets a bodiless 304, and the feed is rendered once
per change.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from aiohttp import web

from actors import urls as routes
from actors.community import Community
from actors.content import ItemKind
from actors.store import pages_queries, social
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow
from actors.web.feed_xml import FeedItem, atom_feed, rss_feed
from actors.web.ical import UNWRITABLE, CalendarEvent, community_calendar, event_calendar
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from federation.errors import NotFound

log = logging.getLogger(__name__)

FEED_KINDS = (ItemKind.STORY, ItemKind.PRACTICE)
FEED_SIZE = 50
CALENDAR_SIZE = 500
CALENDAR_PAST = timedelta(days=365)  # past events a subscribed calendar still shows
CACHE_CONTROL = "public, max-age=300"


def _answer(
    request: web.Request, body: bytes, content_type: str, *, filename: str | None = None
) -> web.Response:
    headers = {"Cache-Control": CACHE_CONTROL}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def feed_item(row: ObjectRow) -> FeedItem:
    return FeedItem(
        url=row.ap_id,
        kind=row.kind,
        title=row.title or "",
        content_html=row.content_html,
        published=row.published,
        updated=row.updated,
        summary=row.summary,
        status=row.status,
    )


async def _feed_items(request: web.Request, community: Community) -> list[FeedItem]:
    async with request.app[SESSIONS]() as session:
        rows = await pages_queries.feed_items(session, community.id, FEED_KINDS, limit=FEED_SIZE)
    return [feed_item(row) for row in rows]


async def atom(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    items = await _feed_items(request, community)
    self_url = request.app[URLS].community_atom(community.slug)
    body = atom_feed(community, request.app[URLS], items, self_url=self_url)
    return _answer(request, body, "application/atom+xml")


async def rss(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    items = await _feed_items(request, community)
    self_url = request.app[URLS].community_rss(community.slug)
    body = rss_feed(community, request.app[URLS], items, self_url=self_url)
    return _answer(request, body, "application/rss+xml")


def calendar_event(row: ObjectRow, details: EventDetailRow) -> CalendarEvent:
    return CalendarEvent(
        uid=row.ap_id,
        url=row.ap_id,
        title=row.title or "Event",
        description_html=row.content_html,
        start=details.start_time,
        end=details.end_time,
        timezone=details.timezone,
        rrule=details.rrule,
        location=details.location_name,
        online_url=details.online_url,
        created=row.published,
        updated=row.updated,
    )


async def calendar(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    since = datetime.now(UTC) - CALENDAR_PAST
    async with request.app[SESSIONS]() as session:
        pairs = await pages_queries.calendar_events(
            session, community.id, since, limit=CALENDAR_SIZE
        )
    events = [calendar_event(row, details) for row, details in reversed(pairs)]
    feed_url = request.app[URLS].community_calendar(community.slug)
    body = community_calendar(community, events, feed_url=feed_url)
    return _answer(request, body, "text/calendar")


async def one_event(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    oid = request.match_info["oid"]
    async with request.app[SESSIONS]() as session:
        row = await social.get_object(session, request.app[URLS].object(community.slug, oid))
        details = None
        if row is not None and row.community_id == community.id and row.deleted_at is None:
            details = await pages_queries.event_details(session, row.id)
    if row is None or details is None:
        raise NotFound("no such event")
    try:
        body = event_calendar(community, calendar_event(row, details))
    except UNWRITABLE as exc:
        log.warning("event %s cannot be written as iCalendar: %s", row.ap_id, exc)
        raise NotFound("this event cannot be written as iCalendar") from exc
    return _answer(request, body, "text/calendar", filename=f"{community.slug}-{oid}.ics")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY_ATOM, atom)
    app.router.add_get(routes.COMMUNITY_RSS, rss)
    app.router.add_get(routes.COMMUNITY_CALENDAR, calendar)
    app.router.add_get(routes.EVENT_CALENDAR, one_event)
