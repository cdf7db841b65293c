"""Sign -> verify round trips: draft-cavage and RFC 9421, RSA and Ed25519, POST and GET."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from multidict import CIMultiDict, CIMultiDictProxy

from federation.errors import FederationError
from federation.httpsig import (
    parse_signature_header,
    parse_signature_input,
    read_limited_body,
    sign_request,
    verify_aiohttp_request,
    verify_request,
)
from federation.keys import Signer, load_private_key
from tests.federation.fedkit import ACTOR, KEY_ID, KeyPair, StaticKeys, as2, sign_rfc9421

INBOX = "https://copub.example/c/gardeners/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/ana"}'


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize("pair_name", ["rsa_pair", "ed_pair"])
async def test_post_round_trip(scheme: str, pair_name: str, request: pytest.FixtureRequest) -> None:
    pair: KeyPair = request.getfixturevalue(pair_name)
    sign = sign_request if scheme == "cavage" else sign_rfc9421
    headers = sign("POST", INBOX, {}, BODY, pair.signer())
    verified = await verify_request(
        "POST", "/c/gardeners/inbox", headers, BODY, StaticKeys().add(pair)
    )
    assert (verified.key_id, verified.owner, verified.scheme) == (KEY_ID, ACTOR, scheme)
    expected = {"rsa_pair": {"cavage": "rsa-sha256", "rfc9421": "rsa-v1_5-sha256"}}
    assert verified.algorithm == expected.get(pair_name, {}).get(scheme, "ed25519")


@pytest.mark.parametrize("sign", [sign_request, sign_rfc9421])
async def test_get_round_trip(sign: Any, rsa_pair: KeyPair) -> None:
    headers = sign(
        "GET",
        "https://copub.example/c/gardeners?page=2",
        {"Accept": "x/y"},
        None,
        rsa_pair.signer(),
    )
    verified = await verify_request(
        "GET", "/c/gardeners?page=2", headers, b"", StaticKeys().add(rsa_pair)
    )
    assert verified.owner == ACTOR


def test_cavage_post_headers_are_the_ones_mastodon_sends(rsa_pair: KeyPair) -> None:
    headers = sign_request("POST", INBOX, {}, BODY, rsa_pair.signer())
    params = parse_signature_header(headers["Signature"])
    assert params["headers"] == "(request-target) host date digest content-type"
    assert params["algorithm"] == "rsa-sha256"
    assert headers["Host"] == "copub.example"
    assert headers["Content-Type"] == "application/activity+json"
    assert headers["Digest"].startswith("SHA-256=")


def test_cavage_get_covers_target_host_date_and_accept(rsa_pair: KeyPair) -> None:
    headers = sign_request(
        "GET", INBOX, {"Accept": "application/activity+json"}, None, rsa_pair.signer()
    )
    assert parse_signature_header(headers["Signature"])["headers"] == (
        "(request-target) host date accept"
    )
    assert "Digest" not in headers


def test_rfc9421_post_covers_method_target_and_content_digest(rsa_pair: KeyPair) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, rsa_pair.signer())
    inner = parse_signature_input(headers["Signature-Input"])["sig1"]
    covered = [item.value for item in inner.items]
    assert covered == ["@method", "@target-uri", "content-digest", "content-type"]
    assert inner.params["keyid"] == KEY_ID
    assert inner.params["alg"] == "rsa-v1_5-sha256"


def test_signature_string_is_checkable_with_plain_cryptography(rsa_pair: KeyPair) -> None:
    """Independent of our verifier: rebuild the signing string by hand."""
    headers = sign_request("POST", INBOX, {}, BODY, rsa_pair.signer(), now=1_700_000_000)
    text = (
        "(request-target): post /c/gardeners/inbox\nhost: copub.example\n"
        "date: Tue, 14 Nov 2023 22:13:20 GMT\n"
        f"digest: {headers['Digest']}\ncontent-type: application/activity+json"
    )
    signature = base64.b64decode(parse_signature_header(headers["Signature"])["signature"])
    key = load_private_key(rsa_pair.private_pem).public_key()
    key.verify(signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]


def test_default_ports_are_left_out_of_host_and_others_kept(rsa_pair: KeyPair) -> None:
    signer = rsa_pair.signer()
    assert sign_request("GET", "https://a.example:443/x", {}, None, signer)["Host"] == "a.example"
    assert sign_request("GET", "http://a.example:8080/x", {}, None, signer)["Host"] == (
        "a.example:8080"
    )
    assert sign_request("GET", "http://[::1]:8080/x", {}, None, signer)["Host"] == "[::1]:8080"


async def test_multidict_headers_in_any_case_verify(rsa_pair: KeyPair) -> None:
    signed = sign_request("POST", INBOX, {}, BODY, rsa_pair.signer())
    wire = CIMultiDictProxy(CIMultiDict({name.upper(): value for name, value in signed.items()}))
    verified = await verify_request(
        "POST", "/c/gardeners/inbox", wire, BODY, StaticKeys().add(rsa_pair)
    )
    assert verified.key_id == KEY_ID


async def test_rsa_pss_sha512_is_accepted(rsa_pair: KeyPair) -> None:
    """RFC 9421 rsa-pss-sha512 (not something we send, but peers may)."""
    now = int(time.time())
    params = f'("@method" "@target-uri");created={now};keyid="{KEY_ID}";alg="rsa-pss-sha512"'
    base = (
        f'"@method": GET\n"@target-uri": https://copub.example/c/gardeners\n'
        f'"@signature-params": {params}'
    )
    key = load_private_key(rsa_pair.private_pem)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    signature = key.sign(base.encode(), pss, hashes.SHA512())  # type: ignore[call-arg]
    headers = {
        "Host": "copub.example",
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(signature).decode()}:",
    }
    verified = await verify_request("GET", "/c/gardeners", headers, b"", StaticKeys().add(rsa_pair))
    assert verified.algorithm == "rsa-pss-sha512"


async def test_hs2019_with_an_ed25519_key(ed_pair: KeyPair) -> None:
    headers = sign_request("POST", INBOX, {}, BODY, ed_pair.signer())
    assert parse_signature_header(headers["Signature"])["algorithm"] == "hs2019"
    verified = await verify_request(
        "POST", "/c/gardeners/inbox", headers, BODY, StaticKeys().add(ed_pair)
    )
    assert verified.algorithm == "ed25519"


async def _inbox_app(keys: StaticKeys, limit: int = 4096) -> web.Application:
    async def inbox(request: web.Request) -> web.Response:
        try:
            body = await read_limited_body(request, limit)
            verified = await verify_aiohttp_request(request, body, keys, scheme="http")
        except FederationError as exc:
            return web.json_response({"error": exc.reason}, status=exc.http_status)
        return web.json_response({"owner": verified.owner, "scheme": verified.scheme}, status=202)

    async def actor(request: web.Request) -> web.Response:
        verified = await verify_aiohttp_request(request, b"", keys, scheme="http")
        return as2({"id": str(request.url), "type": "Group", "signedBy": verified.owner})

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/actor", actor)
    return app


async def test_signed_post_over_the_wire_verifies(
    aiohttp_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    """The client's real request (aiohttp's own Host, target, body) verifies on a real server."""
    server = await aiohttp_server(await _inbox_app(StaticKeys().add(rsa_pair)), host="127.0.0.1")
    client = await make_client()
    result = await client.post_activity(
        str(server.make_url("/inbox?via=test")), BODY, rsa_pair.signer()
    )
    assert result.status == 202, result.body_snippet
    assert '"owner": "https://remote.example/users/ana"' in result.body_snippet


async def test_signed_get_over_the_wire_verifies(
    aiohttp_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    server = await aiohttp_server(await _inbox_app(StaticKeys().add(rsa_pair)), host="127.0.0.1")
    client = await make_client()
    document = await client.fetch_object(str(server.make_url("/actor")), rsa_pair.signer())
    assert document["signedBy"] == ACTOR


async def test_wrong_key_over_the_wire_is_401(
    aiohttp_server: Any, make_client: Any, rsa_pair: KeyPair, other_rsa_pair: KeyPair
) -> None:
    server = await aiohttp_server(await _inbox_app(StaticKeys().add(rsa_pair)), host="127.0.0.1")
    client = await make_client()
    forged = Signer(KEY_ID, other_rsa_pair.private_pem)
    result = await client.post_activity(str(server.make_url("/inbox")), BODY, forged)
    assert result.status == 401
    assert "does not verify" in result.body_snippet


async def test_oversized_body_over_the_wire_is_413(
    aiohttp_server: Any, make_client: Any, rsa_pair: KeyPair
) -> None:
    app = await _inbox_app(StaticKeys().add(rsa_pair), limit=64)
    server = await aiohttp_server(app, host="127.0.0.1")
    client = await make_client()
    result = await client.post_activity(
        str(server.make_url("/inbox")), b"x" * 65, rsa_pair.signer()
    )
    assert result.status == 413
    assert "exceeds the limit of 64 bytes" in result.body_snippet
