"""Shared fixtures: a database on each backend, settings, the real app and a test client.

- ``pg_server`` (session): a running PostgreSQL (see tests/pg.py); skipped outside CI
  when PostgreSQL is not installed, a failure under ``CI=true``.
- ``database_url``: a database of the test's own, migrated to head, once on SQLite and
  once on PostgreSQL; ``empty_database_url``: the same without any tables.
- ``settings``: ``Settings`` for that database with ``base_url`` https://cop.test.
- ``sessions``: an ``async_sessionmaker`` on that database, migrated.
- ``app`` / ``client``: ``create_app(settings)`` and its ``aiohttp_client``.
- ``make_client``: build a client with other settings or a fake ``subscribe_lookup``.
- ``config_file``: a TOML config file for the CLI pointing at that database.
Every client fails its test if the app answered any request with a 5xx. Key pairs come
from a pool (``pooled_keys``, autouse; opt out with ``@pytest.mark.real_keys``).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import signing
from actors.settings import Settings
from actors.store.db import create_engine, is_sqlite, load_models, migrate, sessionmaker
from actors.web.app import create_app
from actors.web.pages import SubscribeLookup
from federation.keys import generate_rsa_keypair
from tests import factories
from tests.pg import (
    PostgresServer,
    PostgresUnavailable,
    run_sync,
    server_from_env,
    start_cluster,
)

# Every model, adapters' too (their tables are created by the migrations): Base.metadata
# must know them
load_models()

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
SERVER_ERRORS = web.AppKey("test_server_errors", list[str])


_KEY_POOL: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def pooled_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Communities and the server key get RSA-2048 pairs from a session pool, not fresh ones.

    Making a key costs ~80 ms of CPU, more than the rest of most tests. Within one test
    every pair is still distinct (the n-th request gets the n-th pooled pair), so a
    mix-up of keys cannot pass unnoticed. ``@pytest.mark.real_keys`` opts out."""
    if request.node.get_closest_marker("real_keys"):
        return
    taken = itertools.count()

    def pooled(bits: int = 2048) -> tuple[str, str]:
        if bits != 2048:
            return generate_rsa_keypair(bits)
        n = next(taken)
        while len(_KEY_POOL) <= n:
            _KEY_POOL.append(generate_rsa_keypair())
        return _KEY_POOL[n]

    monkeypatch.setattr(signing, "generate_rsa_keypair", pooled)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session: $COPUB_TEST_PG_URL or a throwaway cluster."""
    server = server_from_env()
    if server is None:
        try:
            server = start_cluster()
        except PostgresUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is required in CI: {exc}")
            pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        if is_sqlite(url):  # one self-contained file to copy
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, copied by ``database_url``."""
    path = tmp_path_factory.mktemp("template") / "copub.sqlite3"
    run_sync(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head once per session, cloned by ``database_url``."""
    name = pg_server.create_database("copub_template")
    run_sync(_migrate(pg_server.url_for(name)))
    return name


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables): a SQLite file, or a new database on PostgreSQL."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path / "copub.sqlite3")
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of its own, already migrated to head (a copy of a session template):
    a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "copub.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield _sqlite_url(path)
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = server.create_database(template=request.getfixturevalue("pg_template"))
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return factories.make_settings(database_url)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database (without the web app)."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        yield sessionmaker(engine)
    finally:
        await engine.dispose()


def _record_server_errors(app: web.Application) -> list[str]:
    errors: list[str] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        if response.status >= 500:
            errors.append(f"{request.method} {request.path_qs} -> {response.status}")

    app[SERVER_ERRORS] = errors
    app.on_response_prepare.append(on_prepare)
    return errors


@pytest.fixture
async def make_client(aiohttp_client: Any, settings: Settings) -> AsyncIterator[ClientFactory]:
    """``await make_client(settings=..., subscribe_lookup=...)`` -> a started TestClient.

    Its apps are closed here, while the test's database still exists: ``aiohttp_client``
    is set up first, so its own teardown would close them only after ``database_url``'s
    dropped that database under their running workers."""
    recorded: list[list[str]] = []
    clients: list[TestClient[Any, Any]] = []

    async def make(
        settings_: Settings | None = None, *, subscribe_lookup: SubscribeLookup | None = None
    ) -> TestClient[Any, Any]:
        app = create_app(settings_ or settings, subscribe_lookup=subscribe_lookup)
        recorded.append(_record_server_errors(app))
        client: TestClient[Any, Any] = await aiohttp_client(app)
        clients.append(client)
        return client

    yield make
    while clients:
        await clients.pop().close()  # closing twice is harmless (aiohttp_client does it too)
    errors = [e for errs in recorded for e in errs]
    assert not errors, f"the app answered with server errors: {errors}"


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient[Any, Any]:
    """The real app on the test database; its startup migrated it and made the server key."""
    return await make_client()


@pytest.fixture
def app(client: TestClient[Any, Any]) -> web.Application:
    """The started application behind ``client`` (``app[SESSIONS]`` is ready)."""
    return client.app  # type: ignore[no-any-return]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    """A config file for the CLI on the test database."""
    return factories.write_config(tmp_path / "config.toml", database_url)
