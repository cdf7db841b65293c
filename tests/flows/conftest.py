"""Fixtures for flow tests: a real copub on loopback and Mastodon-like peers.

- ``copub``: the real app listening at http://127.0.0.1:PORT (its ``base_url``), on the
  ``database_url`` of tests/conftest.py (SQLite and PostgreSQL); fails the test if it
  answered any request with a 5xx.
- ``remote`` / ``remote2``: two Mastodon-like servers (tests/flows/remote.py).
- ``community``: ``nightshift`` created through the CLI; returns its actor id.
- ``follower``: ``alice@remote`` following ``nightshift``, Accept received.

"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.flows.copub import Copub, follow, start_copub
from tests.flows.remote import Person, RemoteServer


@pytest.fixture
async def copub(database_url: str, tmp_path: Path) -> AsyncIterator[Copub]:
    server = await start_copub(database_url, tmp_path)
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
async def remote2() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
async def community(copub: Copub) -> str:
    return await copub.create_community("nightshift")


@pytest.fixture
async def follower(remote: RemoteServer, copub: Copub, community: str) -> Person:
    alice = remote.person("alice")
    await follow(remote, alice, copub, "nightshift")
    return alice
