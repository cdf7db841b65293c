"""The value-creation matrix (actors/values.py): cycles by stories and indicators.

- The community page shows its own matrix (its stories told as value-creation stories,
  its members' filed by hashtag, and its coordinators' indicators), a few entries a cell.
- ``/c/{slug}/value`` is the whole matrix for people (HTML) and, for other copub servers,
  the Group's ``valueCreation`` collection (JSON): its value stories and indicators.
- The network page aggregates it across linked communities that publish it: each linked
  Group's collection is fetched with the network's background refresh (at most hourly,
  bounded, read through federation.intake) and kept in ``value_cache``; value stories
  that came over a link count at once, before the next refresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from actors import urls as routes
from actors.community import Community
from actors.html import plain_text
from actors.remote import Remote
from actors.store import links as link_store
from actors.store import values as store
from actors.store.db import AsyncSession
from actors.urls import Urls
from actors.values import (
    CYCLE_NAMES,
    CYCLE_QUESTIONS,
    CYCLES,
    INDICATOR_TERMS,
    MAX_WIRE_ITEMS,
    ValueClaim,
    claim_terms,
    indicator_to_json,
    number_text,
    read_collection,
)
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from actors.web.negotiation import activity_response, wants_html
from federation.clock import as2_time, parse_iso_time
from federation.errors import FederationError
from federation.intake import safe_url
from federation.origins import same_origin
from federation.vocab import AS_CONTEXT, JSON, get_id

log = logging.getLogger(__name__)

PAGE_SHOWN = 3  # entries of each kind a cell shows on the community page
MATRIX_SHOWN = 50  # on the matrix page, and per linked community on the network page


@dataclass(frozen=True)
class StoryEntry:
    url: str
    label: str
    changed: str
    for_whom: str
    about: tuple[str, ...]
    published: datetime | None
    community: str = ""  # the community's name on the network page


@dataclass(frozen=True)
class IndicatorEntry:
    text: str
    number: str
    on: date
    community: str = ""


@dataclass
class Row:
    cycle: str
    name: str
    question: str
    stories: list[StoryEntry] = field(default_factory=list)
    indicators: list[IndicatorEntry] = field(default_factory=list)


def _rows() -> dict[str, Row]:
    return {c: Row(c, CYCLE_NAMES[c], CYCLE_QUESTIONS[c]) for c in CYCLES}


def _story(story: store.ValueStory, community: str = "") -> StoryEntry:
    label = story.title or plain_text(story.text_html, 120) or story.url
    claim = story.claim
    return StoryEntry(
        story.url, label, claim.changed, claim.for_whom, claim.about, story.published, community
    )


async def own_matrix(session: AsyncSession, community_id: int, *, limit: int) -> list[Row]:
    """The community's own matrix: its value stories and indicators, newest first."""
    rows = _rows()
    for story in await store.own_stories(session, community_id, limit=limit * len(CYCLES)):
        rows[story.claim.cycle].stories.append(_story(story))
    for ind in await store.indicators(session, community_id, limit=limit * len(CYCLES)):
        if ind.cycle in rows:
            rows[ind.cycle].indicators.append(
                IndicatorEntry(ind.text, number_text(ind.number), ind.on_date)
            )
    return [_trim(row, limit) for row in rows.values()]


def _trim(row: Row, limit: int) -> Row:
    return Row(row.cycle, row.name, row.question, row.stories[:limit], row.indicators[:limit])


def totals(rows: list[Row]) -> tuple[int, int]:
    return sum(len(r.stories) for r in rows), sum(len(r.indicators) for r in rows)


# -- the collection other copub servers read --------------------------------------------------


def collection(urls: Urls, community: Community, stories: list[store.ValueStory],
               indicators: list[Any]) -> JSON:  # fmt: skip
    """The Group's ``valueCreation``: its value stories (as the Notes they are, their value
    terms and title) and its indicators (``ValueIndicator``), at most MAX_WIRE_ITEMS each."""
    me = urls.community_value(community.slug)
    items: list[JSON] = [
        {
            "id": s.url,
            "type": "Note",
            "name": s.title,
            "url": s.url,
            "published": as2_time(s.published),
            **claim_terms(s.claim),
        }
        for s in stories[:MAX_WIRE_ITEMS]
    ]
    items += [
        indicator_to_json(store.indicator_of(row), f"{me}#indicator-{row.id}")
        for row in indicators[:MAX_WIRE_ITEMS]
    ]
    return {
        "@context": [AS_CONTEXT, INDICATOR_TERMS],
        "id": me,
        "type": "OrderedCollection",
        "attributedTo": urls.community(community.slug),
        "totalItems": len(items),
        "orderedItems": items,
    }


async def value_page(request: web.Request) -> web.StreamResponse:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        if not wants_html(request):
            stories = await store.own_stories(session, community.id, limit=MAX_WIRE_ITEMS)
            indicators = await store.indicators(session, community.id, limit=MAX_WIRE_ITEMS)
            response = activity_response(collection(urls, community, stories, indicators))
            response.headers["Vary"] = "Accept"
            return response
        rows = await own_matrix(session, community.id, limit=MATRIX_SHOWN)
    context = {
        "community": community,
        "rows": rows,
        "community_url": urls.community(community.slug),
        "network_url": urls.community_network(community.slug),
        "json_url": urls.community_value(community.slug),
        "show_community": False,
    }
    response = aiohttp_jinja2.render_template("value.html", request, context)
    response.headers["Vary"] = "Accept"
    return response


async def value_context(request: web.Request, community: Community) -> dict[str, Any]:
    """What the community page's matrix shows."""
    async with request.app[SESSIONS]() as session:
        rows = await own_matrix(session, community.id, limit=PAGE_SHOWN)
    return {"value_rows": rows, "value_url": request.app[URLS].community_value(community.slug)}


# -- the network's matrix ----------------------------------------------------------------------


async def network_matrix(
    session: AsyncSession, community: Community, labels: dict[str, str]
) -> list[Row]:
    """Cycles by stories and indicators across the community and the linked communities
    that publish theirs (their cached collections, and value stories come over links)."""
    rows = _rows()
    own = await own_matrix(session, community.id, limit=MATRIX_SHOWN)
    for row in own:
        target = rows[row.cycle]
        target.stories += [_named(s, community.name) for s in row.stories]
        target.indicators += [_named_ind(i, community.name) for i in row.indicators]
    seen = {s.url for row in rows.values() for s in row.stories}
    groups = await link_store.linked_group_ids(session, community.id)
    for group, cache in (await store.cached(session, groups)).items():
        name = labels.get(group, group)
        for entry in cache.stories[: MATRIX_SHOWN * len(CYCLES)]:
            story = _cached_story(entry, name)
            if story is not None and story[1].url not in seen:
                seen.add(story[1].url)
                rows[story[0]].stories.append(story[1])
        for entry in cache.indicators[: MATRIX_SHOWN * len(CYCLES)]:
            found = _cached_indicator(entry, name)
            if found is not None:
                rows[found[0]].indicators.append(found[1])
    for linked in await store.linked_stories(session, community.id, limit=MATRIX_SHOWN):
        if linked.url not in seen:
            seen.add(linked.url)
            rows[linked.claim.cycle].stories.append(
                _story(linked, labels.get(linked.community, linked.community))
            )
    for row in rows.values():
        row.stories.sort(key=lambda s: s.published or datetime.min.replace(tzinfo=UTC),
                         reverse=True)  # fmt: skip
        row.indicators.sort(key=lambda i: i.on, reverse=True)
    return list(rows.values())


def _named(story: StoryEntry, name: str) -> StoryEntry:
    return StoryEntry(story.url, story.label, story.changed, story.for_whom, story.about,
                      story.published, name)  # fmt: skip


def _named_ind(indicator: IndicatorEntry, name: str) -> IndicatorEntry:
    return IndicatorEntry(indicator.text, indicator.number, indicator.on, name)


def _cached_story(entry: Any, name: str) -> tuple[str, StoryEntry] | None:
    """A story kept in ``value_cache`` (as :func:`actors.values.story_entry` made it)."""
    if not isinstance(entry, dict) or entry.get("cycle") not in CYCLE_NAMES:
        return None
    url = safe_url(entry.get("url"))
    if url is None:
        return None
    about = tuple(a for a in entry.get("about") or () if isinstance(a, str) and safe_url(a))
    claim = ValueClaim(entry["cycle"], str(entry.get("changed") or ""),
                       str(entry.get("for_whom") or ""), about)  # fmt: skip
    story = StoryEntry(url, str(entry.get("title") or "") or url, claim.changed, claim.for_whom,
                       claim.about, parse_iso_time(entry.get("published")), name)  # fmt: skip
    return claim.cycle, story


def _cached_indicator(entry: Any, name: str) -> tuple[str, IndicatorEntry] | None:
    if not isinstance(entry, dict) or entry.get("cycle") not in CYCLE_NAMES:
        return None
    try:
        on = date.fromisoformat(str(entry.get("on")))
    except ValueError:
        return None
    number = entry.get("number")
    shown = number_text(float(number)) if isinstance(number, int | float) else ""
    return entry["cycle"], IndicatorEntry(str(entry.get("text") or ""), shown, on, name)


async def refresh_values(remote: Remote, group: str, community: Community | None) -> None:
    """Fetch and cache a linked Group's value collection, when it publishes one (the
    Group's ``valueCreation``, on its own server); a failure is cached too."""
    stories: list[JSON] | None = None
    indicators: list[JSON] | None = None
    error: str | None = None
    try:
        actor = await remote.lookup_actor(group, community)
        url = safe_url(get_id(actor.ap_json.get("valueCreation")))
        if url is None or not same_origin(url, group):
            stories, indicators = [], []  # it publishes none
        else:
            stories, indicators = read_collection(await remote.fetch_object(url, community), group)
    except FederationError as exc:
        log.info("value collection of %s not fetched: %s", group, exc.reason)
        error = exc.reason[:2000]
    async with remote.sessions.begin() as session:
        await store.save_cache(session, group, stories, indicators, error, datetime.now(UTC))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY_VALUE, value_page)
