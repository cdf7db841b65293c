"""Three organizations, each a copub server on its own loopback port with one community and
one follower on a Mastodon-like server (``people``; no shared inbox, so each follower's
deliveries can be counted apart).

- ``database_urls``: three databases of the test's backend (SQLite files or PostgreSQL).
- ``orgs``: (A, B, C): ``hospital``, ``clinic`` and ``college`` on their own servers.
- ``people`` / ``followers``: the RemoteServer and fa, fb, fc following A, B, C.
- ``home``: one copub (SQLite) with the community ``hospital``, for tests against fake
  origins of other software (tests/links/origin.py); ``fa``: its follower (and server).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.flows.copub import Copub, follow, start_copub
from tests.flows.remote import Person, RemoteServer
from tests.links.network import SLUGS, Org, running_orgs
from tests.pg import PostgresServer


@pytest.fixture(params=BACKENDS)
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    if request.param == "sqlite":
        urls = []
        for name in SLUGS:
            path = tmp_path / f"{name}.sqlite3"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            urls.append(f"sqlite+aiosqlite:///{path}")
        yield urls
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    names = [server.create_database(template=template) for _ in SLUGS]
    try:
        yield [server.url_for(name) for name in names]
    finally:
        for name in names:
            server.drop_database(name)


@pytest.fixture
async def orgs(database_urls: list[str], tmp_path: Path) -> AsyncIterator[tuple[Org, Org, Org]]:
    async with running_orgs(database_urls, tmp_path) as found:
        yield found


@pytest.fixture
async def people() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
async def followers(
    orgs: tuple[Org, Org, Org], people: RemoteServer
) -> tuple[Person, Person, Person]:
    """fa, fb, fc follow A, B and C (each with an inbox of their own)."""
    found = []
    for org, name in zip(orgs, ("fa", "fb", "fc"), strict=True):
        person = people.person(name, shared_inbox=False)
        await follow(people, person, org.copub, org.slug)
        found.append(person)
    return found[0], found[1], found[2]


@pytest.fixture
async def home(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Copub]:
    path = tmp_path / "home.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    server = await start_copub(f"sqlite+aiosqlite:///{path}", tmp_path)
    await server.create_community("hospital")
    try:
        yield server
    finally:
        await server.server.close()
    assert not server.errors, server.errors


@pytest.fixture
async def fa(home: Copub) -> AsyncIterator[tuple[RemoteServer, Person]]:
    async with RemoteServer() as people:
        person = people.person("fa", shared_inbox=False)
        await follow(people, person, home, "hospital")
        yield people, person
