"""copub servers on loopback with their consoles in use: for console pages that reach
other servers (the Network page). ``running(urls, tmp_path, slugs)`` starts one copub per
database with one community each; ``Server.coordinator(slug)`` signs a new coordinator in
to its console (a browser of helpers.Person); every client and server is closed after, and
the test fails if any answered with a server error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from actors.store import queries
from actors.web.keys import SETTINGS
from tests.console.helpers import FAST_HASHING, Person, coordinator
from tests.flows.copub import Copub, start_copub


async def community_id(copub: Copub, slug: str) -> int:
    async with copub.sessions() as session:
        community = await queries.get_community(session, slug)
        assert community is not None
        return community.id


@dataclass
class Server:
    """A copub on loopback and the browsers' connections to its console."""

    copub: Copub
    clients: list[TestClient[Any, Any]] = field(default_factory=list)

    async def console(self) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(self.copub.server)
        await client.start_server()  # the server runs already: this only opens the client
        self.clients.append(client)
        return client

    async def coordinator(self, slug: str, username: str = "alice") -> Person:
        """A new coordinator of ``slug``, signed in to this server's console."""
        copub = self.copub
        return await coordinator(
            await self.console(), copub.app[SETTINGS], copub.sessions,
            await community_id(copub, slug), username,
        )  # fmt: skip


@asynccontextmanager
async def running(
    database_urls: Sequence[str], tmp_path: Path, slugs: Sequence[str], **sections: Any
) -> AsyncIterator[list[Server]]:
    """One copub per slug (on the database of the same rank), with its community."""
    started: list[Server] = []
    try:
        for url, slug in zip(database_urls, slugs, strict=False):
            copub = await start_copub(url, tmp_path, console=FAST_HASHING, **sections)
            started.append(Server(copub))
            await copub.create_community(slug)
        yield started
    finally:
        for server in started:
            for client in server.clients:
                await client.close()
            await server.copub.server.close()
    errors = [e for server in started for e in server.copub.errors]
    assert not errors, errors
