"""Idle connections are kept for the hosts used last, and only for so many: a fan-out to
10,000 servers once left 10,000 sockets open in the worker (~70 MB; past a soft limit of
1,024 open files the next connections failed). federation/pool.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from federation.client import FederationClient
from tests.federation.fedkit import KeyPair

ANSWER = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


@dataclass
class Peers:
    """Loopback HTTP servers answering every request with 202 on kept-alive connections;
    each counts the connections made to it, and ``changed`` is told when one opens or closes."""

    ports: list[int] = field(default_factory=list)
    opened: dict[int, int] = field(default_factory=dict)
    open_now: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def connections_at_most(self, n: int) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.open_now <= n), 5)

    def inbox(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}/inbox"


class Answering(asyncio.Protocol):
    def __init__(self, peers: Peers, port: int) -> None:
        self.peers, self.port, self.buffer = peers, port, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peers.opened[self.port] += 1
        self._count(+1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._count(-1)

    def _count(self, step: int) -> None:
        self.peers.open_now += step

        async def tell() -> None:
            async with self.peers.changed:
                self.peers.changed.notify_all()

        asyncio.get_running_loop().create_task(tell())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            assert self.transport is not None
            self.transport.write(ANSWER)


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    loop = asyncio.get_running_loop()
    found = Peers()
    servers = []
    for _ in range(6):
        holder: list[int] = []
        server = await loop.create_server(
            lambda h=holder: Answering(found, h[0]),  # type: ignore[misc]
            "127.0.0.1",
            0,
        )
        holder.append(server.sockets[0].getsockname()[1])
        found.ports.append(holder[0])
        found.opened[holder[0]] = 0
        servers.append(server)
    yield found
    for server in servers:
        server.close()


async def deliver(client: FederationClient, peers: Peers, order: list[int], key: KeyPair) -> None:
    for i in order:
        result = await client.post_activity(peers.inbox(i), b'{"type": "Create"}', key.signer())
        assert result.status == 202


async def test_idle_connections_are_kept_for_the_hosts_used_last(
    peers: Peers, make_client: object, rsa_pair: KeyPair
) -> None:
    # Given a client that keeps idle connections for 3 hosts
    client: FederationClient = await make_client(idle_hosts=3)  # type: ignore[operator]
    # When it delivers to 6 hosts, one after the other
    await deliver(client, peers, [0, 1, 2, 3, 4, 5], rsa_pair)
    # Then only the connections to the last 3 stay open
    await peers.connections_at_most(3)
    assert peers.open_now == 3
    # and delivering to those again reuses them, while the first host gets a new one
    await deliver(client, peers, [3, 4, 5, 0], rsa_pair)
    assert [peers.opened[peers.ports[i]] for i in range(6)] == [2, 1, 1, 1, 1, 1]


async def test_a_host_used_again_is_kept_before_those_used_since(
    peers: Peers, make_client: object, rsa_pair: KeyPair
) -> None:
    # Given a client keeping 2 hosts' connections, that went to hosts 0, 1, then 0 again
    client: FederationClient = await make_client(idle_hosts=2)  # type: ignore[operator]
    await deliver(client, peers, [0, 1, 0], rsa_pair)
    # When it goes to a third host
    await deliver(client, peers, [2], rsa_pair)
    # Then host 1, the one used longest ago, lost its connection; host 0 kept its own
    await deliver(client, peers, [0, 1], rsa_pair)
    assert [peers.opened[peers.ports[i]] for i in range(3)] == [1, 2, 1]


async def test_no_idle_connection_is_kept_with_idle_hosts_zero(
    peers: Peers, make_client: object, rsa_pair: KeyPair
) -> None:
    client: FederationClient = await make_client(idle_hosts=0)  # type: ignore[operator]
    await deliver(client, peers, [0, 0], rsa_pair)
    await peers.connections_at_most(0)
    assert peers.opened[peers.ports[0]] == 2


def test_idle_hosts_is_not_negative() -> None:
    with pytest.raises(ValueError, match="idle_hosts"):
        FederationClient("copub-tests/1.0", idle_hosts=-1)
