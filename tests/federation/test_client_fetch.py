"""FederationClient against loopback peers: content types, origins, limits, redirects,
timeouts and delivery results."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from federation.client import MIB, FederationClient, RemoteStatusError
from federation.errors import FetchError
from federation.httpsig import http_date
from tests.federation.fedkit import FakeDNS, KeyPair, as2

AS2 = "application/activity+json"


def _doc(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"id": str(request.url.with_query(None)), "type": "Group", **extra}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        "application/ld+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    ],
)
async def test_as2_content_types_are_accepted(
    content_type: str, peer_server: Any, make_client: Any
) -> None:
    async def actor(request: web.Request) -> web.Response:
        return as2(_doc(request), content_type=content_type)

    server = await peer_server({"GET /actor": actor})
    client = await make_client()
    assert (await client.fetch_object(str(server.make_url("/actor"))))["type"] == "Group"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/html",
        'application/ld+json; profile="https://example.com/other"',
        "",
    ],
)
async def test_other_content_types_are_refused(
    content_type: str, peer_server: Any, make_client: Any
) -> None:
    async def actor(request: web.Request) -> web.Response:
        return as2(_doc(request), content_type=content_type)

    server = await peer_server({"GET /actor": actor})
    client = await make_client()
    with pytest.raises(FetchError, match="is not ActivityStreams"):
        await client.fetch_object(str(server.make_url("/actor")))


async def test_the_accept_header_asks_for_as2(peer_server: Any, make_client: Any) -> None:
    seen: list[str] = []

    async def actor(request: web.Request) -> web.Response:
        seen.append(request.headers["Accept"])
        return as2(_doc(request))

    server = await peer_server({"GET /actor": actor})
    await (await make_client()).fetch_object(str(server.make_url("/actor")))
    assert seen == [
        'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    ]


async def test_document_from_another_origin_is_refused(peer_server: Any, make_client: Any) -> None:
    """FEP-fe34: the id must be on the origin the document came from."""

    async def actor(request: web.Request) -> web.Response:
        return as2({"id": "https://victim.example/users/admin", "type": "Person"})

    server = await peer_server({"GET /actor": actor})
    client = await make_client()
    with pytest.raises(FetchError, match="has an id from another origin"):
        await client.fetch_object(str(server.make_url("/actor")))


async def test_origin_is_the_final_url_after_redirects(peer_server: Any, make_client: Any) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"http://localhost:{request.url.port}/actor")

    async def actor(request: web.Request) -> web.Response:
        return as2({"id": f"http://127.0.0.1:{request.url.port}/actor", "type": "Group"})

    server = await peer_server({"GET /old": moved, "GET /actor": actor})
    client = await make_client(resolver=FakeDNS({"localhost": ["127.0.0.1"]}))
    with pytest.raises(FetchError, match="another origin"):
        await client.fetch_object(str(server.make_url("/old")))


async def test_document_without_id_is_refused(peer_server: Any, make_client: Any) -> None:
    async def actor(request: web.Request) -> web.Response:
        return as2({"type": "Note"})

    server = await peer_server({"GET /note": actor})
    with pytest.raises(FetchError, match="another origin"):
        await (await make_client()).fetch_object(str(server.make_url("/note")))


async def test_ld_signature_and_proof_blocks_are_tolerated(
    peer_server: Any, make_client: Any
) -> None:
    async def note(request: web.Request) -> web.Response:
        return as2(
            _doc(
                request,
                signature={
                    "type": "RsaSignature2017",
                    "creator": "x#main-key",
                    "signatureValue": "AA==",
                },
                proof={
                    "type": "DataIntegrityProof",
                    "cryptosuite": "eddsa-jcs-2022",
                    "proofValue": "z1",
                },
            )
        )

    server = await peer_server({"GET /note": note})
    document = await (await make_client()).fetch_object(str(server.make_url("/note")))
    assert document["signature"]["type"] == "RsaSignature2017"


@pytest.mark.parametrize(("status", "exc"), [(404, RemoteStatusError), (410, RemoteStatusError)])
async def test_error_statuses_raise_with_the_status(
    status: int, exc: type, peer_server: Any, make_client: Any
) -> None:
    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=status)

    server = await peer_server({"GET /actor": gone})
    with pytest.raises(exc) as caught:
        await (await make_client()).fetch_object(str(server.make_url("/actor")))
    assert caught.value.status == status


async def test_invalid_json_is_refused(peer_server: Any, make_client: Any) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(body=b"{nope", headers={"Content-Type": AS2})

    server = await peer_server({"GET /actor": broken})
    with pytest.raises(FetchError, match="did not answer valid JSON"):
        await (await make_client()).fetch_object(str(server.make_url("/actor")))


# --- size limits -----------------------------------------------------------------------------


def _big_document(request: web.Request, size: int) -> bytes:
    head = json.dumps(_doc(request))[:-1]
    padding = size - len(head) - len(',"x":""}')
    return (head + ',"x":"' + "a" * padding + '"}').encode()


async def test_declared_body_over_1_mib_is_refused(peer_server: Any, make_client: Any) -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=_big_document(request, MIB + 1), headers={"Content-Type": AS2})

    server = await peer_server({"GET /actor": big})
    with pytest.raises(FetchError, match="exceeds 1048576 bytes"):
        await (await make_client()).fetch_object(str(server.make_url("/actor")))


async def test_streamed_body_over_1_mib_is_abandoned(peer_server: Any, make_client: Any) -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AS2})
        await response.prepare(request)
        try:
            for _ in range(64):  # 4 MiB if nobody stops reading
                await response.write(b"a" * 65536)
                sent.append(65536)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    server = await peer_server({"GET /actor": endless})
    with pytest.raises(FetchError, match="body exceeds 1048576 bytes"):
        await (await make_client()).fetch_object(str(server.make_url("/actor")))


async def test_body_of_exactly_1_mib_is_fine(peer_server: Any, make_client: Any) -> None:
    async def full(request: web.Request) -> web.Response:
        return web.Response(body=_big_document(request, MIB), headers={"Content-Type": AS2})

    server = await peer_server({"GET /actor": full})
    document = await (await make_client()).fetch_object(str(server.make_url("/actor")))
    assert len(document["x"]) > MIB - 200


# --- redirects -------------------------------------------------------------------------------


async def _redirect_chain(peer_server: Any, hops: int) -> Any:
    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n < hops:
            raise web.HTTPFound(f"/r/{n + 1}")
        return as2(_doc(request))

    return await peer_server({"GET /r/{n}": hop})


async def test_three_redirects_are_followed(peer_server: Any, make_client: Any) -> None:
    server = await _redirect_chain(peer_server, 3)
    document = await (await make_client()).fetch_object(str(server.make_url("/r/0")))
    assert document["id"].endswith("/r/3")


async def test_a_fourth_redirect_is_refused(peer_server: Any, make_client: Any) -> None:
    server = await _redirect_chain(peer_server, 4)
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await (await make_client()).fetch_object(str(server.make_url("/r/0")))


async def test_every_hop_is_signed_again(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    seen: list[tuple[str, str]] = []

    async def hop(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Signature", "")))
        if request.path == "/a":
            raise web.HTTPFound("/b")
        return as2(_doc(request))

    server = await peer_server({"GET /a": hop, "GET /b": hop})
    await (await make_client()).fetch_object(str(server.make_url("/a")), rsa_pair.signer())
    assert [path for path, _ in seen] == ["/a", "/b"]
    assert all('keyId="' in signature for _, signature in seen)
    assert seen[0][1] != seen[1][1]  # signed over a different (request-target)


# --- timeouts --------------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (kernel backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


async def test_a_silent_host_fails_within_the_timeout(silent_port: int, make_client: Any) -> None:
    client = await make_client(timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.3 s"):
        await client.fetch_object(f"http://127.0.0.1:{silent_port}/actor")
    assert time.monotonic() - started < 3


async def test_a_closed_port_is_a_fetch_error(make_client: Any) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(FetchError, match="ClientConnectorError"):
        await (await make_client()).fetch_object(f"http://127.0.0.1:{port}/actor")


# --- deliveries ------------------------------------------------------------------------------


async def test_post_activity_signs_and_reports(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    received: list[tuple[str, str, bytes]] = []

    async def inbox(request: web.Request) -> web.Response:
        received.append(
            (request.headers["Content-Type"], request.headers["Digest"], await request.read())
        )
        return web.Response(status=202, text="accepted")

    server = await peer_server({"POST /inbox": inbox})
    result = await (await make_client()).post_activity(
        str(server.make_url("/inbox")), b'{"type":"Follow"}', rsa_pair.signer()
    )
    assert (result.status, result.ok, result.retry_after_seconds, result.body_snippet) == (
        202,
        True,
        None,
        "accepted",
    )
    assert received[0][0] == AS2
    assert received[0][2] == b'{"type":"Follow"}'


@pytest.mark.parametrize(("retry_after", "low", "high"), [("120", 120, 120), ("http-date", 50, 61)])
async def test_post_activity_reports_retry_after(
    retry_after: str, low: float, high: float, peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    async def busy(request: web.Request) -> web.Response:
        value = http_date(time.time() + 60) if retry_after == "http-date" else retry_after
        return web.Response(status=429, headers={"Retry-After": value})

    server = await peer_server({"POST /inbox": busy})
    result = await (await make_client()).post_activity(
        str(server.make_url("/inbox")), b"{}", rsa_pair.signer()
    )
    assert result.status == 429
    assert not result.ok
    assert result.retry_after_seconds is not None
    assert low <= result.retry_after_seconds <= high


async def test_post_activity_returns_errors_with_a_snippet(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="E" * 5000)

    server = await peer_server({"POST /inbox": broken})
    result = await (await make_client()).post_activity(
        str(server.make_url("/inbox")), b"{}", rsa_pair.signer()
    )
    assert result.status == 500
    assert result.body_snippet == "E" * 512


async def test_post_activity_does_not_follow_redirects(
    peer_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect("/elsewhere")

    server = await peer_server({"POST /inbox": moved})
    result = await (await make_client()).post_activity(
        str(server.make_url("/inbox")), b"{}", rsa_pair.signer()
    )
    assert result.status == 308


async def test_fetch_json_accepts_jrd(peer_server: Any, make_client: Any) -> None:
    async def jrd(request: web.Request) -> web.Response:
        return as2({"subject": "acct:a@b"}, content_type="application/jrd+json")

    server = await peer_server({"GET /.well-known/webfinger": jrd})
    client = await make_client()
    assert (await client.fetch_json(str(server.make_url("/.well-known/webfinger"))))["subject"]


async def test_client_must_be_started() -> None:
    with pytest.raises(RuntimeError, match="start"):
        await FederationClient("x").fetch_object("https://example.com/")


async def test_client_as_context_manager(peer_server: Any) -> None:
    async def actor(request: web.Request) -> web.Response:
        return as2(_doc(request))

    server = await peer_server({"GET /actor": actor})
    async with FederationClient("x", allowed_networks=["127.0.0.1/32"]) as client:
        assert (await client.fetch_object(str(server.make_url("/actor"))))["type"] == "Group"
