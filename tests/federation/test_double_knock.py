"""Double-knocking: the client signs with the scheme a peer takes, learns it from a 401,
and remembers it per origin in bounded memory.

The peers here are loopback servers that verify with copub's own verifier and answer 401
to the schemes they are told to refuse (as a server that checks only one format does).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.remote import federation_client
from actors.settings import ConfigError, settings_from_dict
from federation.client import FederationClient, RemoteStatusError
from federation.errors import SignatureError
from federation.httpsig import verify_aiohttp_request
from federation.httpsig.knock import SchemeMemory, as_scheme, other_scheme
from federation.origins import origin_text
from tests import factories
from tests.federation.fedkit import ACTOR, KeyPair, StaticKeys, as2

BODY = json.dumps({"id": "https://copub.example/a/1", "type": "Create"}).encode()


@dataclass
class Peer:
    """A loopback server: ``POST /inbox`` and ``GET /actor``, both needing a signature."""

    server: TestServer
    refuses: set[str]  # schemes answered with 401 (their signature is not even read)
    status: int = 202  # what an accepted POST gets
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # (method, scheme, status)

    @property
    def origin(self) -> str:
        return origin_text(str(self.server.make_url("/")))

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def schemes(self, method: str = "POST") -> list[str]:
        return [scheme for m, scheme, _ in self.seen if m == method]


def _scheme_of(request: web.Request) -> str:
    if "Signature-Input" in request.headers:
        return "rfc9421"
    return "cavage" if "Signature" in request.headers else "unsigned"


@pytest.fixture
def make_peer(peer_server: Any, rsa_pair: KeyPair) -> Any:
    keys = StaticKeys().add(rsa_pair)

    async def make(refuses: Collection[str] = (), status: int = 202) -> Peer:
        peer: Peer

        async def check(request: web.Request) -> tuple[str, bytes, int]:
            scheme, body = _scheme_of(request), await request.read()
            if scheme in peer.refuses:
                return scheme, body, 401
            try:  # the scheme it takes must also verify, over the wire as sent
                verified = await verify_aiohttp_request(request, body, keys, scheme="http")
            except SignatureError:
                return scheme, body, 401
            assert (verified.scheme, verified.owner) == (scheme, ACTOR)
            return scheme, body, 0

        async def inbox(request: web.Request) -> web.Response:
            scheme, body, refused = await check(request)
            status = refused or peer.status
            peer.seen.append(("POST", scheme, status))
            if not refused:
                assert body == BODY
            return web.Response(status=status, text="refused" if refused else "")

        async def actor(request: web.Request) -> web.Response:
            scheme, _body, refused = await check(request)
            peer.seen.append(("GET", scheme, refused or 200))
            if refused:
                return web.Response(status=401, text="signature required")
            return as2({"id": str(request.url), "type": "Person"})

        server = await peer_server({"POST /inbox": inbox, "GET /actor": actor})
        peer = Peer(server, set(refuses), status)
        return peer

    return make


async def knocker(make_client: Any, first: str = "cavage", **options: Any) -> FederationClient:
    client: FederationClient = await make_client(signature_scheme=as_scheme(first), **options)
    return client


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_a_peer_taking_the_first_knock_gets_one_request(
    scheme: str, make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a peer that verifies both schemes (with copub's own verifier)
    peer = await make_peer()
    client = await knocker(make_client, scheme)
    # When copub delivers to it and fetches from it
    result = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    document = await client.fetch_object(peer.url("/actor"), rsa_pair.signer())
    # Then each is one request, signed with the first knock, and verified
    assert result.status == 202
    assert document["type"] == "Person"
    assert peer.seen == [("POST", scheme, 202), ("GET", scheme, 200)]
    assert len(client.schemes) == 0  # nothing to remember: the first knock is the default


@pytest.mark.parametrize("first", ["cavage", "rfc9421"])
async def test_a_401_is_answered_with_the_other_scheme_and_remembered(
    first: str, make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a peer that refuses the first knock's scheme
    second = other_scheme(as_scheme(first))
    peer = await make_peer(refuses={first})
    client = await knocker(make_client, first)
    # When copub delivers twice
    first_result = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    again = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    # Then the first delivery knocked twice and got in with the other scheme
    assert (first_result.status, again.status) == (202, 202)
    assert peer.seen == [("POST", first, 401), ("POST", second, 202), ("POST", second, 202)]
    # And the second went straight to the scheme the peer took: it is remembered
    assert client.schemes.scheme_for(peer.origin) == second


async def test_signed_fetches_knock_twice_too_and_share_the_memory(
    make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a peer that checks only RFC 9421
    peer = await make_peer(refuses={"cavage"})
    client = await knocker(make_client, "cavage")
    # When copub fetches its actor with a signature, then delivers to it
    document = await client.fetch_object(peer.url("/actor"), rsa_pair.signer())
    await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    # Then the fetch got in at the second knock, and the delivery at the first
    assert document["type"] == "Person"
    assert peer.seen == [("GET", "cavage", 401), ("GET", "rfc9421", 200), ("POST", "rfc9421", 202)]


async def test_a_peer_that_refuses_both_is_asked_twice_and_nothing_is_remembered(
    make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    peer = await make_peer(refuses={"cavage", "rfc9421"})
    client = await knocker(make_client, "cavage")
    result = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    # The 401 is the result (the worker's policy decides), after one knock with each scheme
    assert (result.status, result.body_snippet) == (401, "refused")
    assert peer.schemes() == ["cavage", "rfc9421"]
    assert len(client.schemes) == 0
    with pytest.raises(RemoteStatusError) as refused:
        await client.fetch_object(peer.url("/actor"), rsa_pair.signer())
    assert refused.value.status == 401


@pytest.mark.parametrize("status", [403, 400, 404, 410, 500])
async def test_only_a_401_knocks_again(
    status: int, make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a peer that verifies the signature and still refuses the activity
    peer = await make_peer(status=status)
    client = await knocker(make_client, "cavage")
    result = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    # Then the answer is the result, after one request
    assert result.status == status
    assert peer.schemes() == ["cavage"]


async def test_a_peer_that_changes_its_mind_is_learned_again(
    make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a peer remembered as taking RFC 9421 only
    peer = await make_peer(refuses={"cavage"})
    client = await knocker(make_client, "cavage")
    await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    assert client.schemes.scheme_for(peer.origin) == "rfc9421"
    # When it stops checking RFC 9421 (a downgrade, another software behind the name)
    peer.refuses = {"rfc9421"}
    peer.seen.clear()
    result = await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    # Then draft-cavage gets in at the second knock, and is the first knock again
    assert result.status == 202
    assert peer.schemes() == ["rfc9421", "cavage"]
    assert client.schemes.scheme_for(peer.origin) == "cavage"
    assert len(client.schemes) == 0


async def test_the_memory_is_bounded_by_origins(
    make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given a client that remembers one origin, and two peers that refuse draft-cavage
    one, two = await make_peer(refuses={"cavage"}), await make_peer(refuses={"cavage"})
    client = await knocker(make_client, "cavage", scheme_memory=1)
    # When it learns both, the first one is forgotten
    for peer in (one, two):
        await client.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    assert len(client.schemes) == 1
    assert client.schemes.scheme_for(two.origin) == "rfc9421"
    assert client.schemes.scheme_for(one.origin) == "cavage"
    # And delivering to it again costs one extra knock, then it is learned again
    one.seen.clear()
    await client.post_activity(one.url("/inbox"), BODY, rsa_pair.signer())
    assert one.schemes() == ["cavage", "rfc9421"]
    assert client.schemes.scheme_for(one.origin) == "rfc9421"


async def test_clients_sharing_a_memory_learn_once(
    make_peer: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    # Given two clients of one process (fetches, deliveries) sharing one memory
    peer = await make_peer(refuses={"cavage"})
    fetcher = await knocker(make_client, "cavage")
    sender = await knocker(make_client, "cavage", schemes=fetcher.schemes)
    # When one learns that the peer takes RFC 9421 only, the other knocks with it at once
    await fetcher.fetch_object(peer.url("/actor"), rsa_pair.signer())
    await sender.post_activity(peer.url("/inbox"), BODY, rsa_pair.signer())
    assert peer.seen == [("GET", "cavage", 401), ("GET", "rfc9421", 200), ("POST", "rfc9421", 202)]


async def test_unsigned_requests_do_not_knock(make_peer: Any, make_client: Any) -> None:
    peer = await make_peer()
    client = await knocker(make_client)
    with pytest.raises(RemoteStatusError):
        await client.fetch_object(peer.url("/actor"))
    assert peer.seen == [("GET", "unsigned", 401)]


def test_scheme_memory_forgets_the_least_recently_used() -> None:
    memory = SchemeMemory("cavage", max_origins=2)
    memory.accepted("https://a.example:443", "rfc9421")
    memory.accepted("https://b.example:443", "rfc9421")
    assert memory.scheme_for("https://a.example:443") == "rfc9421"  # a is now the most recent
    memory.accepted("https://c.example:443", "rfc9421")
    assert len(memory) == 2
    assert memory.scheme_for("https://b.example:443") == "cavage"  # b was forgotten
    assert memory.scheme_for("https://a.example:443") == "rfc9421"
    memory.accepted("https://a.example:443", "cavage")  # back to the first knock: no entry
    assert len(memory) == 1


def test_scheme_names() -> None:
    assert (as_scheme("cavage"), as_scheme("rfc9421")) == ("cavage", "rfc9421")
    with pytest.raises(ValueError, match="unknown signature scheme"):
        as_scheme("hs2019")
    with pytest.raises(ValueError, match="at least 1"):
        SchemeMemory(max_origins=0)


def test_the_setting_chooses_the_first_knock() -> None:
    url = "sqlite+aiosqlite:///unused.sqlite3"
    default = factories.make_settings(url)
    assert federation_client(default).schemes.first_knock == "cavage"
    rfc9421 = factories.make_settings(url, federation={"signature_scheme": "rfc9421"})
    assert federation_client(rfc9421).schemes.first_knock == "rfc9421"
    with pytest.raises(ConfigError, match=r"federation\.signature_scheme"):
        settings_from_dict(factories.settings_dict(url, federation={"signature_scheme": "x"}))
