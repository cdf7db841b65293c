"""The network page (``/c/{slug}/network``, HTML) and document (``network.json``), and the
"from linked communities" section of the community page.

Pages read the database only. The second hop (each linked Group's ``following``) is
fetched in the background, at most once an hour per Group: a page that finds it missing or
stale is served as it is and asks :class:`FollowingRefresher` to fetch it. One process of
a fleet at a time fetches a Group's (a lock named after it: ``actors.store.singletons``);
another asked meanwhile leaves it to that one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors import urls as routes
from actors.community import Community
from actors.content import ItemKind
from actors.event_json import remote_event_draft
from actors.html import plain_text
from actors.schedule import zone_or_utc
from actors.store import links as store
from actors.store.models_links import NetworkCacheRow
from actors.store.singletons import AdvisoryLocks
from actors.web import network_export, network_graph, network_picture, value_matrix
from actors.web.keys import DIRECTORY, REMOTE, SESSIONS, URLS
from actors.web.negotiation import json_response
from actors.web.present import when
from federation.vocab import JSON

log = logging.getLogger(__name__)

LINKED_SHOWN = 10
LINKED_KINDS = (ItemKind.STORY, ItemKind.PRACTICE, ItemKind.EVENT, ItemKind.POST)
KIND_LABELS: dict[str, str] = {kind: kind.capitalize() for kind in LINKED_KINDS}


class FollowingRefresher:
    """Background fetches of linked Groups' ``following``, one at a time per Group."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._running: dict[str, asyncio.Task[None]] = {}
        self._locks: AdvisoryLocks | None = None  # with the first fetch (the database's)

    def request(self, group_ids: Iterable[str], community: Community) -> None:
        for group in group_ids:
            if group not in self._running and REMOTE in self._app:
                self._running[group] = asyncio.create_task(
                    self._refresh(group, community), name=f"following {group}"
                )

    async def _refresh(self, group: str, community: Community) -> None:
        if self._locks is None:
            self._locks = AdvisoryLocks(self._app[SESSIONS])
        try:
            async with self._locks.holding(f"network-refresh {group}") as mine:
                if mine and await self._still_stale(group):
                    await network_graph.refresh_following(self._app[REMOTE], group, community)
                    await value_matrix.refresh_values(self._app[REMOTE], group, community)
        except Exception:
            log.exception("refreshing the following of %s failed", group)
        finally:
            self._running.pop(group, None)

    async def _still_stale(self, group: str) -> bool:
        """Another process may have fetched it since the page looked."""
        async with self._app[SESSIONS]() as session:
            row = await session.get(NetworkCacheRow, group)
        return network_graph.is_stale(row, datetime.now(UTC))

    async def idle(self) -> None:
        """Wait for the fetches under way (tests and shutdown)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self) -> None:
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        if self._locks is not None:
            await self._locks.close()


NETWORK_REFRESHER = web.AppKey("network_refresher", FollowingRefresher)


async def _network(request: web.Request, community: Community) -> network_graph.Network:
    async with request.app[SESSIONS]() as session:
        found = await network_graph.build_network(session, request.app[URLS], community)
    if found.stale:
        request.app[NETWORK_REFRESHER].request(found.stale, community)
    return found


async def network_json(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    found = await _network(request, community)
    return json_response(found.document)


def _labels(document: JSON, community: Community) -> dict[str, str]:
    """The names of the network's communities we know, by actor id."""
    labels = {document["community"]["id"]: community.name}
    for link in (*document["links"]["outgoing"], *document["links"]["incoming"]):
        labels[link["id"]] = link["name"] or link["handle"] or link["id"]
    return labels


async def network_graphml(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    found = await _network(request, community)
    labels = _labels(found.document, community)
    return network_export.graphml_response(found.document, labels, community.slug)


async def network_page(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    found = await _network(request, community)
    urls = request.app[URLS]
    document = found.document
    labels = _labels(document, community)
    async with request.app[SESSIONS]() as session:
        value_rows = await value_matrix.network_matrix(session, community, labels)
    return aiohttp_jinja2.render_template(
        "network.html",
        request,
        {
            "community": community,
            "network": document,
            "labels": labels,
            "community_url": urls.community(community.slug),
            "json_url": urls.community_network_json(community.slug),
            "graphml_url": urls.community_network_graphml(community.slug),
            "picture": network_picture.picture(document, labels),
            "refreshing": bool(found.stale),
            "value_rows": value_rows,
            "value_url": urls.community_value(community.slug),
        },
    )


def _excerpt(title: str | None, html: str) -> str:
    """The first words of an item, without its title when the text repeats it."""
    text = plain_text(html, 400)
    if title and text.startswith(title):
        text = text[len(title) :].lstrip(" :-")
    return text[:280] + ("…" if len(text) > 280 else "")


@dataclass(frozen=True)
class EventTime:
    """When a linked event takes place, in its own time zone."""

    start: datetime
    text: str  # ``Tue 3 Mar 2026, 18:00-20:00 CET``


def _event_time(obj: JSON) -> EventTime | None:
    """A linked event's time (its first occurrence), if it can be read."""
    draft = remote_event_draft(obj)
    if draft is None:
        return None
    zone = zone_or_utc(draft.timezone)
    start = draft.start.astimezone(zone)
    end = draft.end.astimezone(zone) if draft.end is not None else None
    return EventTime(start, when(start, end))


async def linked_context(request: web.Request, community: Community) -> dict[str, Any]:
    """What ``linked.html`` shows on the community page: the newest linked items."""
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        rows = await store.recent_items(
            session, community.id, limit=LINKED_SHOWN, kinds=LINKED_KINDS
        )
        named = {item.origin_group for _obj, item in rows} | {obj.attributed_to for obj, _ in rows}
        known = await store.remote_actors(session, sorted(named))
        starts: dict[int, EventTime | None] = {}
        for obj, item in rows:
            if item.kind == ItemKind.EVENT:  # its time is in its document (read for events only)
                await session.refresh(obj, ["ap_json"])
                starts[obj.id] = _event_time(obj.ap_json)
    items = [
        {
            "url": obj.ap_id,
            "title": obj.title,
            "kind": KIND_LABELS.get(item.kind, item.kind),
            "excerpt": _excerpt(obj.title, obj.content_html),
            "published": obj.published,
            "starts": starts.get(obj.id),
            "group": network_graph.describe(item.origin_group, known),
            "author": network_graph.describe(obj.attributed_to, known),
        }
        for obj, item in rows
    ]
    return {"linked_items": items, "network_url": urls.community_network(community.slug)}


async def _close(app: web.Application) -> None:
    await app[NETWORK_REFRESHER].close()


def setup_routes(app: web.Application) -> None:
    app[NETWORK_REFRESHER] = FollowingRefresher(app)
    app.on_shutdown.append(_close)  # before the client and the database close
    app.router.add_get(routes.COMMUNITY_NETWORK, network_page)
    app.router.add_get(routes.COMMUNITY_NETWORK_JSON, network_json)
    app.router.add_get(routes.COMMUNITY_NETWORK_GRAPHML, network_graphml)
