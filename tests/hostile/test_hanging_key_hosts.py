"""Attack class: signatures whose keys live on servers that never answer.

A hostile sender POSTs activities with signature headers whose keyIds point at servers that
accept the connection and never answer. Each such request waits for its key until the fetch
times out; that must not delay anyone else. Key fetches are bounded per host
(``key_fetch_per_host`` at once, ``key_fetch_queue_per_host`` more waiting: beyond, 503 at
once) and nothing waits for a slot of another host, so a genuine new sender's Follow is
accepted at once while 150 hostile requests hang; the per-host state is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actors.web.keys import KEY_RESOLVER
from federation.httpsig import sign_request
from federation.keys import Signer, generate_rsa_keypair
from federation.vocab import AS2_MEDIA_TYPE, AS_CONTEXT
from tests.flows.copub import Copub, start_copub
from tests.flows.remote import RemoteServer

HOSTS = 15
PER_HOST = 10  # 150 hostile requests in all
LIMITS = {"key_fetch_per_host": 4, "key_fetch_queue_per_host": 16, "key_fetch_total": 256}
FETCH_TIMEOUT = 30.0  # a hostile request holds its key fetch this long
PATIENCE = 10.0  # how long the genuine sender may wait before the test fails


class SilentHosts:
    """Servers on 127.0.0.1 that accept connections and never answer, until released."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.connections = 0
        self.released = asyncio.Event()
        self._changed = asyncio.Condition()

    async def start(self, count: int) -> SilentHosts:
        for _ in range(count):
            self.servers.append(await asyncio.start_server(self._hold, "127.0.0.1", 0))
        return self

    @property
    def origins(self) -> list[str]:
        return [f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}" for s in self.servers]

    async def _hold(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._changed:
            self.connections += 1
            self._changed.notify_all()
        await self.released.wait()
        writer.close()

    async def holding(self, count: int) -> None:
        """Wait until ``count`` connections are being held."""
        async with asyncio.timeout(PATIENCE), self._changed:
            await self._changed.wait_for(lambda: self.connections >= count)

    async def close(self) -> None:
        self.released.set()
        for server in self.servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def copub(database_url: str, tmp_path: Path) -> AsyncIterator[Copub]:
    federation = {"fetch_timeout_seconds": FETCH_TIMEOUT, **LIMITS}
    server = await start_copub(database_url, tmp_path, federation=federation)
    try:
        yield server
    finally:
        await server.server.close()
    errors = [e for e in server.errors if not e.endswith("-> 503")]  # 503: busy, on purpose
    assert not errors, f"copub answered with server errors: {errors}"


@pytest.fixture
async def silent() -> AsyncIterator[SilentHosts]:
    hosts = await SilentHosts().start(HOSTS)
    try:
        yield hosts
    finally:
        await hosts.close()


KEY = Signer(key_id="unused", private_key_pem=generate_rsa_keypair()[0])


async def hostile_post(copub: Copub, origin: str, n: int) -> tuple[int, Any]:
    """A Follow signed with a key said to be at ``origin`` (a distinct key id each time)."""
    actor = f"{origin}/users/u{n}"
    follow = {"@context": AS_CONTEXT, "id": f"{actor}/follows/1", "type": "Follow",
              "actor": actor, "object": copub.actor("nightshift")}  # fmt: skip
    body = json.dumps(follow).encode()
    signer = Signer(key_id=f"{actor}#main-key", private_key_pem=KEY.private_key_pem)
    headers = sign_request("POST", copub.shared_inbox, {"Content-Type": AS2_MEDIA_TYPE}, body,
                           signer)  # fmt: skip
    headers.pop("Host", None)
    async with (
        aiohttp.ClientSession() as session,
        session.post(copub.shared_inbox, data=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


def launch(copub: Copub, origins: list[str], per_host: int) -> list[asyncio.Task[tuple[int, Any]]]:
    return [
        asyncio.create_task(hostile_post(copub, origin, n))
        for origin in origins
        for n in range(per_host)
    ]


async def test_silent_key_hosts_do_not_delay_a_genuine_sender(
    copub: Copub, remote: RemoteServer, silent: SilentHosts
) -> None:
    await copub.create_community("nightshift")
    # Given 150 requests whose keys are on 15 servers that never answer, all waiting
    hostile = launch(copub, silent.origins, PER_HOST)
    await silent.holding(HOSTS * LIMITS["key_fetch_per_host"])
    # When a new sender on another server follows the community
    bob = remote.person("bob")
    async with asyncio.timeout(PATIENCE):
        follow = await remote.send_follow(bob, copub.inbox("nightshift"), copub.actor("nightshift"))
    # Then it was accepted while every hostile request still waits for its key
    assert await copub.inbox_items(follow["id"]) in (["pending"], ["done"])
    assert not any(task.done() for task in hostile)
    # And when the silent servers hang up, each hostile request is refused
    silent.released.set()
    answers = await asyncio.gather(*hostile)
    assert {status for status, _ in answers} == {401}
    # And no per-host state is kept once nothing waits
    assert copub.app[KEY_RESOLVER].busy_hosts == 0


async def test_a_host_gets_at_most_its_queue_then_503_at_once(
    copub: Copub, silent: SilentHosts
) -> None:
    await copub.create_community("nightshift")
    slots = LIMITS["key_fetch_per_host"] + LIMITS["key_fetch_queue_per_host"]
    # When 50 requests name keys on one silent server, 30 more than it may have fetched
    requests = launch(copub, silent.origins[:1], slots + 30)
    answered: set[asyncio.Task[tuple[int, Any]]] = set()
    async with asyncio.timeout(PATIENCE):
        while len(answered) < 30:
            done, _ = await asyncio.wait(set(requests) - answered, return_when="FIRST_COMPLETED")
            answered |= done
    # Then 30 are answered 503 with a reason at once, while the others wait for their keys
    answers = [task.result() for task in answered]
    assert [status for status, _ in answers] == [503] * 30
    assert all("key fetches" in answer["error"] for _, answer in answers)
    waiting = [task for task in requests if task not in answered]
    assert len(waiting) == slots
    assert not any(task.done() for task in waiting)
    await silent.holding(LIMITS["key_fetch_per_host"])
    assert silent.connections == LIMITS["key_fetch_per_host"]  # the others never started
    silent.released.set()
    assert {status for status, _ in await asyncio.gather(*waiting)} == {401}
