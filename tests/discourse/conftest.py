"""Fixtures for the Discourse adapter: a fake forum and copub connected to it.

- ``forum``: a fake Discourse (tests/fakes/discourse.py) with the bot ``copub-bot`` (its
  single-user key), ``nora`` and the category "Night shift"; ``category``, ``nora``.
- ``copub``: the real app with ``adapters = ["adapters.discourse"]`` and a ``[[discourse]]``
  table for ``nightshift`` (no polling; fast retries), the forum's webhook pointed at it.
- ``community``: ``nightshift`` created through the CLI; ``follower``: alice on a
  Mastodon-like server (tests/flows/remote.py), following it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discourse.harness import SLUG, forum_table, prepare_forum, start_connected
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, follow
from tests.flows.remote import Person, RemoteServer


@pytest.fixture
async def forum() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as fake:
        yield fake


@pytest.fixture
def prepared(forum: FakeDiscourse) -> tuple[Category, User]:
    return prepare_forum(forum)


@pytest.fixture
def category(prepared: tuple[Category, User]) -> Category:
    return prepared[0]


@pytest.fixture
def nora(prepared: tuple[Category, User]) -> User:
    return prepared[1]


@pytest.fixture
async def copub(
    database_url: str, tmp_path: Path, forum: FakeDiscourse, category: Category
) -> AsyncIterator[Copub]:
    server = await start_connected(database_url, tmp_path, forum_table(forum, category), forum)
    try:
        yield server
    finally:
        await server.server.close()
    assert not server.errors, f"copub answered with server errors: {server.errors}"


@pytest.fixture
async def remote() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
async def community(copub: Copub) -> str:
    return await copub.create_community(SLUG)


@pytest.fixture
async def follower(remote: RemoteServer, copub: Copub, community: str) -> Person:
    alice = remote.person("alice")
    await follow(remote, alice, copub, SLUG)
    return alice
