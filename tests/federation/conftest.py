"""Fixtures for the federation protocol tests: keys, key resolvers, loopback peers."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.client import FederationClient
from federation.keys import generate_rsa_keypair
from tests.federation.fedkit import Handler, KeyPair, ServerFactory, StaticKeys, ed25519_pair


@pytest.fixture(scope="session")
def rsa_pair() -> KeyPair:
    return KeyPair(*generate_rsa_keypair())


@pytest.fixture(scope="session")
def other_rsa_pair() -> KeyPair:
    return KeyPair(*generate_rsa_keypair())


@pytest.fixture(scope="session")
def ed_pair() -> KeyPair:
    return ed25519_pair()


@pytest.fixture
def static_keys(rsa_pair: KeyPair) -> StaticKeys:
    return StaticKeys().add(rsa_pair)


@pytest.fixture
def peer_server(aiohttp_server: Any) -> ServerFactory:
    """Start a loopback server (127.0.0.1) from a {"METHOD /path": handler} table."""

    async def start(routes: dict[str, Handler]) -> TestServer:
        app = web.Application()
        for spec, handler in routes.items():
            method, path = spec.split(" ", 1)
            app.router.add_route(method, path, handler)
        server: TestServer = await aiohttp_server(app, host="127.0.0.1")
        return server

    return start


@pytest.fixture
async def make_client() -> Any:
    """Started FederationClients, closed after the test. Defaults allow only 127.0.0.1."""
    clients: list[FederationClient] = []

    async def make(**options: Any) -> FederationClient:
        options.setdefault("allowed_networks", ["127.0.0.1/32"])
        client = FederationClient("copub-tests/1.0", **options)
        await client.start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
