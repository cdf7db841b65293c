"""Signatures are made off the event loop: a fan-out signs dozens of requests at once, and
on the loop every request arriving meanwhile would wait for all of them (under the
hostile mix: 25 ms stalls every two seconds while relays went out)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aiohttp import web

import federation.client
import federation.httpsig
from federation.client import FederationClient
from federation.errors import SignatureError
from federation.httpsig import verify_aiohttp_request
from tests.federation.fedkit import ACTOR, KeyPair, StaticKeys, as2

BODY = b'{"id": "https://copub.example/a/1", "type": "Create"}'


@pytest.fixture
def signing_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of every ``sign_request`` the client makes."""
    threads: list[int] = []
    sign = federation.httpsig.sign_request

    def recorded(*args: Any, **kwargs: Any) -> dict[str, str]:
        threads.append(threading.get_ident())
        return sign(*args, **kwargs)

    monkeypatch.setattr(federation.client, "sign_request", recorded)
    return threads


async def test_deliveries_and_fetches_are_signed_off_the_event_loop(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair, signing_threads: list[int]
) -> None:
    # Given a peer that verifies every signature with copub's own verifier
    keys = StaticKeys().add(rsa_pair)
    verified: list[str] = []

    async def check(request: web.Request) -> None:
        body = await request.read()
        try:
            result = await verify_aiohttp_request(request, body, keys, scheme="http")
        except SignatureError as exc:
            raise web.HTTPUnauthorized() from exc
        verified.append(result.owner)

    async def inbox(request: web.Request) -> web.Response:
        await check(request)
        return web.Response(status=202)

    async def actor(request: web.Request) -> web.Response:
        await check(request)
        return as2({"id": str(request.url), "type": "Person"})

    peer = await peer_server({"POST /inbox": inbox, "GET /actor": actor})
    client: FederationClient = await make_client()
    # When copub delivers to it and fetches from it
    result = await client.post_activity(str(peer.make_url("/inbox")), BODY, rsa_pair.signer())
    document = await client.fetch_object(str(peer.make_url("/actor")), rsa_pair.signer())
    # Then both went out signed and verified, signed in a thread other than the loop's
    assert result.status == 202
    assert document["type"] == "Person"
    assert verified == [ACTOR, ACTOR]
    assert len(signing_threads) == 2
    assert threading.get_ident() not in signing_threads
