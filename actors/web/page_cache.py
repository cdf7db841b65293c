"""Conditional GET and the render cache of a community's public pages, actor document,
collections and feeds: one middleware, one table of the routes it covers (``PAGES``).

The validator of every answer is the community's content version (actors/store/versions.py:
bumped in the transaction of every write a page shows, by whatever process made it), with
the site's own tag (copub's version and its templates, :func:`site_tag`), the variant (HTML
or JSON of a negotiated URL) and, for HTML and time-bound documents, the current period of
``[pages] html_seconds`` (upcoming events, the circles and remote people's names change with
time, not only with writes). One read of the version per request, then:

- ``If-None-Match`` naming the current ETag (or ``If-Modified-Since`` no earlier than the
  last change, when there is no ``If-None-Match``): 304, nothing rendered;
- the page rendered for this ETag is in this process's cache (:class:`RenderCache`, LRU,
  bounded in entries and bytes): that body;
- else the handler renders it; a 200 is kept for the next request with this ETag.

Who may see what: :func:`audience` names the class of viewer an answer is for, or None for
one rendered for this viewer alone (never cached, never validated). Today a request carrying
a console session is answered uncached (a signed-in coordinator never gets a page the cache
made for the public, nor leaves one there); a members-only community will answer None (or
its members' class) for what outsiders may not see. The console itself is not in ``PAGES``.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from importlib import metadata
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from actors import urls as routes
from actors.settings import PagesSettings
from actors.store.versions import ContentVersion, VersionReader
from actors.web.keys import DIRECTORY, LOOP_READS, SESSIONS
from actors.web.negotiation import wants_html

NO_CACHE = "no-cache"  # keep it, but ask again each time (a 304 is cheap)
FEED_CACHE = "public, max-age=300"
KEPT_HEADERS = ("Content-Type", "Vary", "Cache-Control", "Content-Disposition")
SESSION_COOKIE = "copub_session"  # the console's (any prefix: __Host- over https)
VALIDATORS_KEPT = 10_000  # validators made once and kept (one per page, version, variant)


@dataclass(frozen=True)
class Page:
    """How a route is validated: ``negotiated`` (HTML or JSON by Accept), else always
    ``html`` or not; ``timed``: its document changes with time too (HTML always does)."""

    negotiated: bool = False
    html: bool = False
    timed: bool = False
    cache_control: str = NO_CACHE


NEGOTIATED = Page(negotiated=True)
DOCUMENT = Page()
HTML = Page(html=True)
FEED = Page(cache_control=FEED_CACHE)

PAGES: dict[str, Page] = {
    routes.COMMUNITY: NEGOTIATED,
    routes.COMMUNITY_OUTBOX: DOCUMENT,
    routes.COMMUNITY_FOLLOWERS: DOCUMENT,
    routes.COMMUNITY_FOLLOWING: DOCUMENT,
    routes.COMMUNITY_FEATURED: DOCUMENT,
    routes.COMMUNITY_MODERATORS: DOCUMENT,
    routes.COMMUNITY_STORIES: NEGOTIATED,
    routes.COMMUNITY_PRACTICES: NEGOTIATED,
    routes.COMMUNITY_EVENTS: NEGOTIATED,
    routes.COMMUNITY_TAG: NEGOTIATED,
    routes.COMMUNITY_OBJECT: NEGOTIATED,
    routes.COMMUNITY_OBJECT_REPLIES: DOCUMENT,
    routes.COMMUNITY_OBJECT_PARTICIPANTS: DOCUMENT,
    routes.COMMUNITY_OBJECT_CONTEXT: DOCUMENT,  # its thread
    routes.COMMUNITY_ACTIVITY: DOCUMENT,
    routes.COMMUNITY_ATOM: FEED,
    routes.COMMUNITY_RSS: FEED,
    routes.COMMUNITY_CALENDAR: Page(timed=True, cache_control=FEED_CACHE),  # the last year
    routes.EVENT_CALENDAR: FEED,
    routes.COMMUNITY_NETWORK: HTML,
    routes.COMMUNITY_NETWORK_JSON: Page(timed=True),  # asks for stale Groups to be fetched
    routes.COMMUNITY_NETWORK_GRAPHML: Page(timed=True),
    routes.COMMUNITY_WHO_KNOWS: HTML,
    routes.COMMUNITY_MODLOG: NEGOTIATED,
    # the last closed weeks' (months') digests: they change with the items and the week
    routes.COMMUNITY_DIGEST_ATOM: Page(timed=True, cache_control=FEED_CACHE),
}


@dataclass(frozen=True)
class _Validator:
    etag: str
    variant: str
    headers: dict[str, str]
    modified: datetime | None  # the Last-Modified header's time, if one is named


@dataclass
class Rendered:
    etag: str
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    # the headers of its last answer and the validator they were made with: a cached
    # GET of an unchanged page formats nothing
    answered: tuple[_Validator, CIMultiDict[str]] | None = field(default=None, compare=False)

    def response(self, validator: _Validator) -> web.Response:
        if self.answered is None or self.answered[0] is not validator:
            headers = CIMultiDict(self.headers)
            headers.update(validator.headers)
            self.answered = (validator, headers)
        return web.Response(status=self.status, body=self.body, headers=self.answered[1])


class RenderCache:
    """Rendered answers by (path and query, variant), least recently used out first; at
    most ``entries`` of them and ``max_bytes`` of bodies. An entry serves only the ETag it
    was rendered for: a newer version renders anew and takes its place.

    A page is kept the second time it is rendered, not the first: the keys rendered once
    are only noted (``entries`` x 4 of them, oldest forgotten first). Under
    bench/bench_hostile.py every tag page asked for with a random tag was kept, 512 pages
    of nothing that pushed out the pages people read and grew the process by their size."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._kept: OrderedDict[tuple[str, str], Rendered] = OrderedDict()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()  # rendered once

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: tuple[str, str], etag: str) -> Rendered | None:
        kept = self._kept.get(key)
        if kept is None or kept.etag != etag:
            return None
        self._kept.move_to_end(key)
        return kept

    def put(self, key: tuple[str, str], rendered: Rendered) -> None:
        again = key in self._kept or key in self._seen
        self._seen.pop(key, None)
        self.drop(key)
        if self.entries <= 0 or len(rendered.body) > self.max_bytes:
            return
        if not again:
            self._seen[key] = None
            while len(self._seen) > self.entries * 4:
                self._seen.popitem(last=False)
            return
        self._kept[key] = rendered
        self.bytes += len(rendered.body)
        while len(self._kept) > self.entries or self.bytes > self.max_bytes:
            _key, old = self._kept.popitem(last=False)
            self.bytes -= len(old.body)

    def clear(self) -> None:
        self._kept.clear()
        self._seen.clear()
        self.bytes = 0

    def drop(self, key: tuple[str, str]) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self.bytes -= len(old.body)


def site_tag(templates: Path) -> str:
    """What every validator carries of the server itself: copub's version and its
    templates (a changed template or an upgrade makes every page new)."""
    digest = hashlib.sha256()
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("copub").encode())
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(
                f"{path.relative_to(templates)}:{stat.st_mtime_ns}:{stat.st_size};".encode()
            )
    return digest.hexdigest()[:12]


# (slug, what was found): the read of this request
_VERSION_READ: web.RequestKey[tuple[str, ContentVersion | None]] = web.RequestKey(
    "copub.version_read", tuple
)


@dataclass
class PageCache:
    settings: PagesSettings
    site: str
    started: datetime
    cache: RenderCache
    reader: VersionReader | None = None  # with the first request (the app's database)
    validators: dict[tuple[object, ...], _Validator] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: PagesSettings, templates: Path) -> PageCache:
        started = datetime.now(UTC).replace(microsecond=0)
        cache = RenderCache(settings.cache_entries, settings.cache_bytes)
        return cls(settings, site_tag(templates), started, cache)

    def versions(self, app: web.Application) -> VersionReader:
        if self.reader is None:
            self.reader = VersionReader(app[SESSIONS], app[LOOP_READS])
        return self.reader

    async def version_for(self, request: web.Request, slug: str) -> ContentVersion | None:
        """The community's content version, read once a request: the members-only gate and
        this cache's middleware both ask (on PostgreSQL each read is a session)."""
        if _VERSION_READ in request:
            read_for, found = request[_VERSION_READ]
            if read_for == slug:
                return found
        found = await self.versions(request.app).of_slug(slug)
        request[_VERSION_READ] = (slug, found)
        return found


PAGE_CACHE: web.AppKey[PageCache] = web.AppKey("page_cache", PageCache)


PRIVATE_ANSWER = web.RequestKey("copub.private_answer", bool)  # set by web/members_gate.py


def audience(request: web.Request) -> str | None:
    """The class of viewer this request is answered for; None: for this viewer alone."""
    if request.get(PRIVATE_ANSWER):
        return None  # a members-only community's (actors/web/members_gate.py)
    if SESSION_COOKIE in request.headers.get("Cookie", "") and any(
        name.endswith(SESSION_COOKIE) for name in request.cookies
    ):
        return None  # signed in to the console
    return "public"


def _matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/"x"`` and ``"x"`` are the same tag."""
    wanted = etag.removeprefix("W/")
    return any(
        tag == "*" or tag.removeprefix("W/") == wanted
        for tag in (t.strip() for t in header.split(","))
    )


def _not_modified(request: web.Request, etag: str, modified: datetime | None) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return _matches(if_none_match, etag)
    since = request.headers.get("If-Modified-Since")
    if since is None or modified is None:
        return False
    try:
        asked = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return asked.tzinfo is not None and modified <= asked


def _validator(
    pages: PageCache, page: Page, html: bool, found: ContentVersion, viewer: str
) -> _Validator:
    """The validator of this version of the page for this viewer: made once, then kept
    while it stands (a new version, period or site makes another key)."""
    period = -1
    if html or page.timed:
        period = int(time.time() // pages.settings.html_seconds)
    key = (page, html, viewer, found.community_id, found.version, found.changed_at, period)
    known = pages.validators.get(key)
    if known is not None:
        return known
    made = _made_validator(pages, page, html, found, viewer, period)
    if made.modified is not None:  # else it names a date in its second: made anew
        if len(pages.validators) >= VALIDATORS_KEPT:
            pages.validators.clear()
        pages.validators[key] = made
    return made


def _made_validator(
    pages: PageCache, page: Page, html: bool, found: ContentVersion, viewer: str, period: int
) -> _Validator:
    variant = f"{viewer}.{'html' if html else 'doc'}"
    headers = {"Cache-Control": page.cache_control}
    if page.negotiated:
        headers["Vary"] = "Accept"
    modified = max(found.changed_at or pages.started, pages.started)
    suffix = ""
    if period >= 0:
        suffix = f"-{period}"
        seconds = pages.settings.html_seconds
        modified = max(modified, datetime.fromtimestamp(period * seconds, UTC))
    etag = f'W/"{pages.site}-{found.community_id}.{found.version}-{variant}{suffix}"'
    headers["ETag"] = etag
    modified = modified.replace(microsecond=0)
    # a change later in this same second would carry the same date: name none until it ends
    named: datetime | None = None
    if (datetime.now(UTC) - modified).total_seconds() >= 1:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
        named = modified
    return _Validator(etag, variant, headers, named)


@web.middleware
async def page_cache_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.resource
    page = PAGES.get(route.canonical) if route is not None else None
    if page is None or request.method not in ("GET", "HEAD") or PAGE_CACHE not in request.app:
        return await handler(request)
    viewer = audience(request)
    if viewer is None:
        response = await handler(request)
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers.popall("ETag", None)
        return response
    pages = request.app[PAGE_CACHE]
    html = wants_html(request) if page.negotiated else page.html
    if (html or page.timed) and pages.settings.html_seconds <= 0:
        return await handler(request)  # validated by time, and no time set: never cached
    slug = request.match_info["slug"]
    found = await pages.version_for(request, slug)
    if found is None:
        return await handler(request)  # no such community: the handler's 404
    validator = _validator(pages, page, html, found, viewer)
    if _not_modified(request, validator.etag, validator.modified):
        return web.Response(status=304, headers=validator.headers)
    key = (request.path_qs, validator.variant)
    kept = pages.cache.get(key, validator.etag)
    if kept is not None:
        return kept.response(validator)
    await request.app[DIRECTORY].at_version(slug, found.version)
    response = await handler(request)
    if response.status != 200:
        return response
    response.headers.update(validator.headers)
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        headers = tuple((k, response.headers[k]) for k in KEPT_HEADERS if k in response.headers)
        pages.cache.put(key, Rendered(validator.etag, 200, response.body, headers))
    return response


def setup(app: web.Application, settings: PagesSettings, templates: Path) -> None:
    """The page cache of ``app`` (its middleware is in ``create_app``'s list)."""
    app[PAGE_CACHE] = PageCache.of(settings, templates)
