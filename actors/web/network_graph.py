"""The network of a community: its links (both directions), their links (the second hop,
from the cached ``following`` collections of linked Groups), the organizations (servers)
they span, and the brokers: people taking part in more than one of these communities."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.community import Community
from actors.remote import Remote
from actors.store import links as store
from actors.store.db import AsyncSession
from actors.store.models import RemoteActorRow
from actors.store.models_links import NetworkCacheRow
from actors.urls import Urls
from federation.clock import as2_time
from federation.errors import FederationError
from federation.intake import bounded, safe_url
from federation.origins import host_of
from federation.vocab import JSON, get_id

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=1)  # a linked Group's following is fetched at most hourly
MAX_PAGES = 2
MAX_ITEMS = 100
MAX_BROKERS = 50


def describe(actor_id: str, known: dict[str, RemoteActorRow]) -> JSON:
    actor = known.get(actor_id)
    return {
        "id": actor_id,
        "handle": actor.handle if actor else None,
        "name": (actor.name or actor.handle) if actor else None,
        "url": safe_url(actor.url if actor else None) or safe_url(actor_id),
        "host": host_of(actor_id) or "",
    }


def is_stale(row: NetworkCacheRow | None, now: datetime) -> bool:
    return row is None or now - row.fetched_at >= REFRESH_AFTER


@dataclass(frozen=True)
class Network:
    document: JSON
    stale: list[str]  # linked Groups whose following should be fetched (in the background)


async def build_network(
    session: AsyncSession, urls: Urls, community: Community, now: datetime | None = None
) -> Network:
    """The network document, from the database alone (never the network)."""
    now = now or datetime.now(UTC)
    me = urls.community(community.slug)
    outgoing = await store.list_links(session, community.id)
    incoming = await store.incoming_links(session, community.id)
    groups = await store.linked_group_ids(session, community.id)
    cache = await store.cached_following(session, groups)
    participation = await store.people_by_community(session, community.id, me)
    brokers = _brokers(participation.by_community)
    second = sorted({i for row in cache.values() for i in row.following if isinstance(i, str)})
    wanted = {r.remote_actor_id for r in outgoing} | {b for b, _ in brokers} | set(second)
    known = await store.remote_actors(session, sorted(wanted | set(groups)))
    for _follower, actor in incoming:
        known[actor.ap_id] = actor
    hops: dict[str, int] = {me: 0}
    for group in groups:
        hops.setdefault(group, 1)
    for item in second:
        hops.setdefault(item, 2)
    document: JSON = {
        "community": {
            **describe(me, {}),
            "handle": urls.handle(community.slug),
            "name": community.name,
            "url": me,
        },
        "links": {
            "outgoing": [
                {**describe(r.remote_actor_id, known), "state": r.state, "policy": r.policy}
                for r in outgoing
            ],
            "incoming": [
                {**describe(actor.ap_id, known), "state": follower.state}
                for follower, actor in incoming
            ],
        },
        "second_hop": [
            {
                "from": group,
                "following": list(cache[group].following) if group in cache else [],
                "total": cache[group].total if group in cache else None,
                "fetched_at": as2_time(cache[group].fetched_at) if group in cache else None,
                "error": cache[group].error if group in cache else None,
            }
            for group in groups
        ],
        "organizations": _organizations(hops),
        "brokers": [
            {**describe(actor, known), "communities": sorted(places)} for actor, places in brokers
        ],
        "generated_at": as2_time(now),
    }
    stale = [g for g in groups if is_stale(cache.get(g), now)]
    return Network(document, stale)


def _organizations(hops: dict[str, int]) -> list[JSON]:
    """Servers the network spans, nearest first: their communities and distance in links."""
    hosts: dict[str, JSON] = {}
    for actor, hop in sorted(hops.items(), key=lambda kv: (kv[1], kv[0])):
        host = host_of(actor) or ""
        entry = hosts.setdefault(host, {"host": host, "hops": hop, "communities": []})
        entry["communities"].append(actor)
    return list(hosts.values())


def _brokers(by_community: dict[str, set[str]]) -> list[tuple[str, set[str]]]:
    """Actors in two or more of the communities, the most connected first."""
    places: dict[str, set[str]] = {}
    for community, people in by_community.items():
        for actor in people:
            places.setdefault(actor, set()).add(community)
    found = [(actor, where) for actor, where in places.items() if len(where) >= 2]
    found.sort(key=lambda pair: (-len(pair[1]), pair[0]))
    return found[:MAX_BROKERS]


async def fetch_following(
    remote: Remote, actor_id: str, community: Community | None
) -> tuple[list[str], int | None]:
    """The first pages (bounded) of a Group's ``following`` collection, signed as
    ``community``; raises FederationError when it cannot be had."""
    actor = await remote.lookup_actor(actor_id, community)
    url = get_id(actor.ap_json.get("following"))
    if url is None:
        return [], None
    root = await remote.fetch_object(url, community)
    total = root.get("totalItems")
    items = _ids(root)
    page: Any = root.get("first")
    pages = 0
    while page is not None and pages < MAX_PAGES and len(items) < MAX_ITEMS:
        document = (
            page if isinstance(page, dict) else await remote.fetch_object(str(page), community)
        )
        items.extend(_ids(document))
        page = document.get("next")
        pages += 1
    unique = list(dict.fromkeys(items))[:MAX_ITEMS]
    return unique, total if isinstance(total, int) else None


def _ids(collection: JSON) -> list[str]:
    """The http(s) ids a collection page lists, without repeats, at most MAX_ITEMS."""
    values = [
        *bounded(collection.get("orderedItems"), MAX_ITEMS),
        *bounded(collection.get("items"), MAX_ITEMS),
    ]
    return [i for i in (safe_url(get_id(v)) for v in values) if i]


async def refresh_following(
    remote: Remote, actor_id: str, community: Community | None
) -> NetworkCacheRow:
    """Fetch and cache one Group's following (a failure is cached too: asked again in an
    hour, not on every page view)."""
    try:
        following, total = await fetch_following(remote, actor_id, community)
        error = None
    except FederationError as exc:
        log.info("following of %s not fetched: %s", actor_id, exc.reason)
        following, total, error = None, None, exc.reason[:2000]
    async with remote.sessions.begin() as session:
        row = await session.get(NetworkCacheRow, actor_id)
        if row is None:
            row = NetworkCacheRow(actor_id=actor_id, following=[])
            session.add(row)
        if following is not None:  # after a failure, the last good answer stays
            row.following, row.total = following, total
        row.error = error
        row.fetched_at = datetime.now(UTC)
    return row
