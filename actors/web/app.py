"""The application factory: settings in, a ready aiohttp app out."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from actors import admin
from actors.directory import CommunityDirectory
from actors.settings import Settings
from actors.store.db import create_engine, migrate, sessionmaker
from actors.urls import Urls
from actors.web import activitypub, pages, wellknown
from actors.web.errors import error_middleware
from actors.web.keys import (
    DIRECTORY,
    ENGINE,
    SERVER_PUBLIC_KEY_PEM,
    SERVER_SIGNER,
    SESSIONS,
    SETTINGS,
    URLS,
)
from actors.web.pages import SUBSCRIBE_LOOKUP, SubscribeLookup
from federation.keys import public_pem_of

log = logging.getLogger(__name__)

HERE = Path(__file__).parent


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database.url)
    await migrate(engine)
    app[ENGINE] = engine
    app[SESSIONS] = sessionmaker(engine)
    app[DIRECTORY] = CommunityDirectory(app[SESSIONS])
    signer = await admin.server_signer(app[SESSIONS], app[URLS])
    app[SERVER_SIGNER] = signer
    app[SERVER_PUBLIC_KEY_PEM] = public_pem_of(signer.private_key)
    yield
    await engine.dispose()


def _load_adapters(app: web.Application, settings: Settings) -> None:
    """Each adapter named in the config is a module with ``setup(app, settings)``."""
    for name in settings.adapters:
        module = importlib.import_module(name)
        module.setup(app, settings)


def create_app(
    settings: Settings, *, subscribe_lookup: SubscribeLookup | None = None
) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=settings.federation.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[URLS] = Urls(settings.server.base_url)
    if subscribe_lookup is not None:
        app[SUBSCRIBE_LOOKUP] = subscribe_lookup
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
    )
    app.cleanup_ctx.append(_database)
    wellknown.setup_routes(app)
    activitypub.setup_routes(app)
    pages.setup_routes(app)
    app.router.add_static("/static", HERE / "static", append_version=False)
    _load_adapters(app, settings)
    return app
