"""The application factory: settings in, a ready aiohttp app out."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware

from actors import allocator, signing
from actors.hooks import ObjectObserver
from actors.inbound import build_router
from actors.inbound.processor import InboxProcessor
from actors.remote import Remote, SqlKeyCache, federation_client
from actors.settings import Settings
from actors.store.db import (
    create_engine,
    in_background,
    is_sqlite,
    migrate,
    sessionmaker,
    sqlite_file,
)
from actors.store.inbox_queue import InboxWriter
from actors.store.loop_reads import LoopReads
from actors.urls import Urls
from actors.web import (
    activitypub,
    archive_pages,
    c2s,
    console,
    content_routes,
    digest_pages,
    feeds,
    health,
    metrics,
    modlog,
    objects,
    page_cache,
    pages,
    value_matrix,
    wellknown,
    who_knows,
)
from actors.web import inbox as inbox_routes
from actors.web import network as network_pages
from actors.web.cache import TimedCache
from actors.web.conversations import thread_refresh_ctx
from actors.web.directory import CommunityDirectory
from actors.web.errors import error_middleware
from actors.web.headers import security_headers
from actors.web.keys import (
    CIRCLES,
    CLIENT,
    DASHBOARD_PANELS,
    DIRECTORY,
    ENGINE,
    INBOX_PROCESSOR,
    INBOX_WRITER,
    KEY_RESOLVER,
    LOOP_READS,
    OBJECT_OBSERVERS,
    REMOTE,
    SERVER_PUBLIC_KEY_PEM,
    SERVER_SIGNER,
    SESSIONS,
    SETTINGS,
    URLS,
)
from actors.web.members_gate import members_gate
from actors.web.negotiation import wants_html
from actors.web.pages import SUBSCRIBE_LOOKUP, SubscribeLookup
from actors.web.present import href, url_or_empty
from actors.web.workers import delivery_worker_ctx, retention_ctx
from federation.httpsig import CachingKeyResolver, KeyFetchLimits, secure_mode_middleware
from federation.keys import public_pem_of

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
FEED_SUFFIXES = (".atom", ".rss", ".ics")


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database.url)
    await migrate(engine)
    app[ENGINE] = engine
    app[SESSIONS] = sessionmaker(engine)
    app[LOOP_READS] = LoopReads(app[SESSIONS], sqlite_file(settings.database.url))
    app[DIRECTORY] = CommunityDirectory(app[SESSIONS], reads=app[LOOP_READS])
    signer = await signing.server_signer(app[SESSIONS], app[URLS])
    app[SERVER_SIGNER] = signer
    app[SERVER_PUBLIC_KEY_PEM] = public_pem_of(signer.private_key)
    yield
    app[LOOP_READS].close()
    await engine.dispose()


async def _federation(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    fed = settings.federation
    client = federation_client(settings)
    # Keys get a connection pool of their own, as large as the key fetch limits: a key
    # fetch never waits behind other fetches (nor behind fetches from other hosts)
    key_client = federation_client(
        settings,
        limit=fed.key_fetch_total,
        limit_per_host=fed.key_fetch_per_host,
        schemes=client.schemes,
    )
    await client.start()
    await key_client.start()
    remote = Remote(
        client,
        app[SESSIONS],
        app[URLS],
        app[SERVER_SIGNER],
        limits=settings.limits,
        key_client=key_client,
    )
    app[CLIENT] = client
    app[REMOTE] = remote
    counts = app.get(metrics.METRICS)
    keys = SqlKeyCache(app[SESSIONS], max_entries=fed.key_cache_entries, reads=app[LOOP_READS])
    app[KEY_RESOLVER] = CachingKeyResolver(
        keys,
        remote.fetch_key_document,
        refresh_cooldown=fed.key_refresh_cooldown_seconds,
        limits=KeyFetchLimits(
            per_host=fed.key_fetch_per_host,
            queue_per_host=fed.key_fetch_queue_per_host,
            total=fed.key_fetch_total,
        ),
        observe=counts.key_lookup if counts is not None else None,
    )
    if SUBSCRIBE_LOOKUP not in app:
        app[SUBSCRIBE_LOOKUP] = remote.subscribe_template
    yield
    await keys.flush()  # the keys fetched last, written behind
    await client.close()
    await key_client.close()


async def _release_memory(app: web.Application) -> AsyncIterator[None]:
    """Memory the process freed goes back to the system every [server]
    release_memory_seconds (actors/allocator.py)."""
    seconds = app[SETTINGS].server.release_memory_seconds
    if seconds <= 0:
        yield
        return
    task = asyncio.create_task(allocator.release_periodically(seconds), name="release-memory")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _inbox_processor(app: web.Application) -> AsyncIterator[None]:
    remote = app[REMOTE]
    observers: list[ObjectObserver] = app[OBJECT_OBSERVERS]
    counts = app.get(metrics.METRICS)
    processor = InboxProcessor(
        urls=app[URLS],
        sessions=app[SESSIONS],
        router=build_router(app[SETTINGS].content, app[SETTINGS].limits),
        lookup_actor=remote.lookup_actor,
        fetch_object=remote.fetch_object,
        skip_locked=not is_sqlite(app[SETTINGS].database.url),
        observers=observers,
        observe_lag=counts.observe_lag if counts is not None else None,
        threads=app[SETTINGS].threads,
    )
    app[INBOX_PROCESSOR] = processor
    app[INBOX_WRITER] = InboxWriter(
        app[SESSIONS], postgresql=not is_sqlite(app[SETTINGS].database.url)
    )
    if not app[SETTINGS].inbox.in_process:
        yield  # accept and store only ([inbox] in_process = false)
        return
    task = asyncio.create_task(in_background(processor.run()), name="inbox-processor")
    yield
    processor.stop()
    task.cancel()  # the batch under way; stop() ends the loop should this come back as an error
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _load_adapters(app: web.Application, settings: Settings) -> None:
    """Each adapter named in the config is a module with ``setup(app, settings)``."""
    for name in settings.adapters:
        module = importlib.import_module(name)
        module.setup(app, settings)


def _needs_signed_get(request: web.Request) -> bool:
    """Secure mode covers our objects and collections, not actors, keys or discovery."""
    if wants_html(request):
        return False
    path = request.path
    if path.startswith(("/.well-known/", "/nodeinfo/", "/static/", "/console/")) or path in (
        "/",
        "/actor",
        "/console",
        "/healthz",
        "/readyz",
    ):
        return False
    if path.endswith(FEED_SUFFIXES):  # feed readers and calendar apps do not sign
        return False
    return request.app[URLS].community_slug_of(request.app[URLS].absolute(path)) is None


def create_app(
    settings: Settings, *, subscribe_lookup: SubscribeLookup | None = None
) -> web.Application:
    app = web.Application(
        middlewares=_middlewares(settings),
        client_max_size=settings.federation.max_body_bytes,
    )
    app.on_response_prepare.append(security_headers(settings.server.base_url))
    app[SETTINGS] = settings
    app[URLS] = Urls(settings.server.base_url)
    app[CIRCLES] = TimedCache(settings.participation.refresh_seconds)
    page_cache.setup(app, settings.pages, HERE / "templates")  # 304s and rendered pages
    app[OBJECT_OBSERVERS] = []
    app[DASHBOARD_PANELS] = []
    if subscribe_lookup is not None:
        app[SUBSCRIBE_LOOKUP] = subscribe_lookup
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        filters={"href": href, "safe_url": url_or_empty},  # remote URLs (web/present.py)
    )
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_federation)
    app.cleanup_ctx.append(_inbox_processor)
    app.cleanup_ctx.append(delivery_worker_ctx)
    app.cleanup_ctx.append(retention_ctx)  # where the worker runs ([retention])
    digest_pages.setup(app)  # [email] digests: pages, feed, the sender where the worker runs
    app.cleanup_ctx.append(thread_refresh_ctx)  # likewise (actors/threads/refresh.py)
    app.cleanup_ctx.append(_release_memory)
    metrics.setup(app, settings)  # [metrics]: counts, timing, /metrics on its own listener
    _add_routes(app, settings)
    _load_adapters(app, settings)
    return app


def _middlewares(settings: Settings) -> list[Middleware]:
    """Every request's path through the app, in order."""
    middlewares: list[Middleware] = [error_middleware, console.console_middleware]
    scheme = urlsplit(settings.server.base_url).scheme
    if settings.server.secure_mode:
        middlewares.append(
            secure_mode_middleware(
                lambda request: request.app[KEY_RESOLVER], _needs_signed_get, scheme=scheme
            )
        )
    # members-only communities: who may fetch, before the page cache could answer
    middlewares.append(members_gate(scheme))
    middlewares.append(page_cache.page_cache_middleware)  # after secure mode's signature check
    return middlewares


def _add_routes(app: web.Application, settings: Settings) -> None:
    """Every page and endpoint, by the module that serves it."""
    health.setup_routes(app)  # /healthz, /readyz
    wellknown.setup_routes(app)
    activitypub.setup_routes(app)
    inbox_routes.setup_routes(app)
    objects.setup_routes(app)
    content_routes.setup_routes(app)
    c2s.setup_routes(app)
    feeds.setup_routes(app)
    pages.setup_routes(app)
    network_pages.setup_routes(app)  # links: /c/{slug}/network(.json)
    who_knows.setup_routes(app)  # /c/{slug}/who-knows: the people around each hashtag
    value_matrix.setup_routes(app)  # /c/{slug}/value: the value-creation matrix
    archive_pages.setup(app)
    modlog.setup_routes(app)  # /c/{slug}/modlog: the public moderation log
    console.setup(app, settings)  # /console: accounts, sign-in, the coordinators' pages
    app.router.add_static("/static", HERE / "static", append_version=False)
