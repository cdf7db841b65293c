"""Every way an incoming signature is refused, each with its status and reason."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from federation.errors import (
    BadRequest,
    FederationError,
    Forbidden,
    PayloadTooLarge,
    SignatureError,
)
from federation.httpsig import (
    PublicKeyInfo,
    VerifiedSignature,
    check_activity_origin,
    check_signer_is_actor,
    read_limited_body,
    sign_request,
    verify_request,
)
from federation.keys import Signer
from tests.federation.fedkit import ACTOR, KEY_ID, KeyPair, StaticKeys, sign_rfc9421

INBOX = "https://copub.example/inbox"
BODY = b'{"type":"Create","actor":"https://remote.example/users/ana"}'
NOW = 1_700_000_000.0


async def _verify(
    headers: dict[str, str],
    body: bytes = BODY,
    *,
    keys: Any,
    method: str = "POST",
    now: float = NOW,
    path: str = "/inbox",
) -> VerifiedSignature:
    return await verify_request(method, path, headers, body, keys, now=now)


async def _reason(headers: dict[str, str], keys: Any, **kwargs: Any) -> str:
    with pytest.raises(SignatureError) as caught:
        await _verify(headers, keys=keys, **kwargs)
    assert caught.value.http_status == 401
    return caught.value.reason


def _signed(
    pair: KeyPair,
    *,
    body: bytes | None = BODY,
    method: str = "POST",
    now: float = NOW,
    url: str = INBOX,
) -> dict[str, str]:
    return sign_request(method, url, {}, body, pair.signer(), now=now)


def _with_signature(
    headers: dict[str, str], key: Signer, names: list[str], values: dict[str, str], **params: str
) -> dict[str, str]:
    """Hand-made cavage signature over ``names`` (values given for each)."""
    text = "\n".join(f"{name}: {values[name]}" for name in names)
    signature = key.private_key.sign(text.encode(), *_pkcs1())  # type: ignore[call-arg]
    extra = "".join(f',{k}="{v}"' for k, v in params.items())
    headers = dict(headers)
    headers["Signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}"{extra},'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


def _pkcs1() -> tuple[Any, Any]:
    return padding.PKCS1v15(), hashes.SHA256()


async def test_unsigned_request(static_keys: StaticKeys) -> None:
    assert await _reason({"Host": "copub.example"}, static_keys) == "the request is not signed"


async def test_tampered_body(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair)
    reason = await _reason(headers, static_keys, body=BODY.replace(b"Create", b"Delete"))
    assert reason == "Digest does not match the request body"


async def test_tampered_body_rfc9421(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, rsa_pair.signer(), now=NOW)
    reason = await _reason(headers, static_keys, body=BODY + b" ")
    assert reason == "Content-Digest does not match the request body"


async def test_tampered_header(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair) | {"Content-Type": "text/plain"}
    assert "does not verify" in await _reason(headers, static_keys)


async def test_other_path(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    assert "does not verify" in await _reason(_signed(rsa_pair), static_keys, path="/other")


async def test_wrong_key(other_rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    reason = await _reason(_signed(other_rsa_pair), static_keys)
    assert reason == f"the signature does not verify with key {KEY_ID}"


async def test_unknown_key(rsa_pair: KeyPair) -> None:
    reason = await _reason(_signed(rsa_pair), StaticKeys())
    assert reason == f"could not obtain key {KEY_ID}: no key {KEY_ID}"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-3601, "Date is too old (more than 3600 s)"),
        (3601, "Date is too far in the future"),
    ],
)
async def test_date_outside_the_hour(
    offset: float, expected: str, rsa_pair: KeyPair, static_keys: StaticKeys
) -> None:
    headers = _signed(rsa_pair, now=NOW + offset)
    assert await _reason(headers, static_keys) == expected


async def test_date_within_the_hour_is_fine(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    for offset in (-3500, 3500):
        assert await _verify(_signed(rsa_pair, now=NOW + offset), keys=static_keys)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-4000, "created is too old (more than 3600 s)"),
        (4000, "created is too far in the future"),
    ],
)
async def test_rfc9421_created_outside_the_hour(
    offset: float, expected: str, rsa_pair: KeyPair, static_keys: StaticKeys
) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, rsa_pair.signer(), now=NOW + offset)
    assert await _reason(headers, static_keys) == expected


async def test_expires_is_honoured(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair)
    names = ["(request-target)", "host", "date", "digest", "(expires)"]
    values = {
        "(request-target)": "post /inbox",
        "host": base["Host"],
        "date": base["Date"],
        "digest": base["Digest"],
        "(expires)": str(int(NOW) - 1),
    }
    headers = _with_signature(base, rsa_pair.signer(), names, values)
    headers["Signature"] += f",expires={int(NOW) - 1}"
    assert await _reason(headers, static_keys) == "the signature has expired"


async def test_missing_date_header(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair)
    del headers["Date"]
    assert await _reason(headers, static_keys) == "the Date header is missing or invalid"


async def test_missing_signed_header(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair)
    del headers["Content-Type"]
    reason = await _reason(headers, static_keys)
    assert reason == "signed header 'content-type' is missing from the request"


async def test_missing_digest_header(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair)
    del headers["Digest"]
    assert await _reason(headers, static_keys) == (
        "Digest offers no supported algorithm (SHA-256, SHA-512)"
    )


async def test_post_not_covering_digest(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair)
    names = ["(request-target)", "host", "date"]
    values = {"(request-target)": "post /inbox", "host": base["Host"], "date": base["Date"]}
    headers = _with_signature(base, rsa_pair.signer(), names, values)
    assert await _reason(headers, static_keys) == "a POST signature must cover digest"


async def test_post_not_covering_request_target(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair)
    names = ["host", "date", "digest"]
    values = {"host": base["Host"], "date": base["Date"], "digest": base["Digest"]}
    headers = _with_signature(base, rsa_pair.signer(), names, values)
    assert await _reason(headers, static_keys) == "a POST signature must cover (request-target)"


async def test_get_not_covering_host(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair, body=None, method="GET")
    names = ["(request-target)", "date"]
    values = {"(request-target)": "get /inbox", "date": base["Date"]}
    headers = _with_signature(base, rsa_pair.signer(), names, values)
    reason = await _reason(headers, static_keys, method="GET", body=b"")
    assert reason == "a GET signature must cover host"


async def test_signature_without_date_or_created(
    rsa_pair: KeyPair, static_keys: StaticKeys
) -> None:
    base = _signed(rsa_pair, body=None, method="GET")
    names = ["(request-target)", "host"]
    values = {"(request-target)": "get /inbox", "host": base["Host"]}
    headers = _with_signature(base, rsa_pair.signer(), names, values)
    reason = await _reason(headers, static_keys, method="GET", body=b"")
    assert reason == "the signature must cover date or (created)"


async def test_rfc9421_post_without_content_digest(
    rsa_pair: KeyPair, static_keys: StaticKeys
) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, None, rsa_pair.signer(), now=NOW)
    assert await _reason(headers, static_keys) == "a POST signature must cover content-digest"


async def test_unsupported_algorithm(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = _signed(rsa_pair)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "rsa-sha1")
    assert await _reason(headers, static_keys) == "unsupported signature algorithm 'rsa-sha1'"


async def test_algorithm_that_does_not_fit_the_key(ed_pair: KeyPair) -> None:
    headers = sign_request("POST", INBOX, {}, BODY, ed_pair.signer(), now=NOW)
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    reason = await _reason(headers, StaticKeys().add(ed_pair))
    assert reason == "algorithm 'rsa-sha256' cannot be used with an Ed25519 key"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('keyId="a",signature="!!!",headers="host date"', "signature is not valid base64"),
        ('keyId="a" signature="abc"', "malformed Signature header: bad parameter value"),
        ('keyId="a,signature="abc"', "malformed Signature header: unbalanced quotes"),
        ('keyId="a",keyId="b",signature="abc"', "the Signature header repeats a parameter"),
        ('signature="abc"', "Signature header lacks keyId or signature"),
        ("", "the request is not signed"),
    ],
)
async def test_malformed_signature_headers(
    header: str, expected: str, static_keys: StaticKeys
) -> None:
    headers = {"Date": "Tue, 14 Nov 2023 22:13:20 GMT", "Host": "a"}
    if header:
        headers["Signature"] = header
    assert await _reason(headers, static_keys, method="GET", body=b"") == expected
    assert static_keys.calls == []  # refused before any key lookup


@pytest.mark.parametrize("name", ["SHA-256", "sha-256", "Sha-256"])
async def test_digest_algorithm_name_is_case_insensitive(
    name: str, rsa_pair: KeyPair, static_keys: StaticKeys
) -> None:
    base = _signed(rsa_pair)
    digest = base["Digest"].replace("SHA-256", name)
    names = ["(request-target)", "host", "date", "digest"]
    values = {
        "(request-target)": "post /inbox",
        "host": base["Host"],
        "date": base["Date"],
        "digest": digest,
    }
    headers = _with_signature(base | {"Digest": digest}, rsa_pair.signer(), names, values)
    assert (await _verify(headers, keys=static_keys)).owner == ACTOR


async def test_sha512_digest_is_accepted(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair)
    digest = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    names = ["(request-target)", "host", "date", "digest"]
    values = {
        "(request-target)": "post /inbox",
        "host": base["Host"],
        "date": base["Date"],
        "digest": digest,
    }
    headers = _with_signature(base | {"Digest": digest}, rsa_pair.signer(), names, values)
    assert (await _verify(headers, keys=static_keys)).owner == ACTOR


async def test_sha1_only_digest_is_refused(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    base = _signed(rsa_pair)
    digest = "SHA=" + base64.b64encode(hashlib.sha1(BODY).digest()).decode()  # noqa: S324
    names = ["(request-target)", "host", "date", "digest"]
    values = {
        "(request-target)": "post /inbox",
        "host": base["Host"],
        "date": base["Date"],
        "digest": digest,
    }
    headers = _with_signature(base | {"Digest": digest}, rsa_pair.signer(), names, values)
    assert await _reason(headers, static_keys) == (
        "Digest offers no supported algorithm (SHA-256, SHA-512)"
    )


# --- the signer must be the actor -----------------------------------------------------------


def _verified(key_id: str = KEY_ID, owner: str = ACTOR) -> VerifiedSignature:
    return VerifiedSignature(key_id, owner, "cavage", "rsa-sha256")


def test_signer_is_the_actor() -> None:
    check_signer_is_actor(_verified(), {"actor": ACTOR})
    check_signer_is_actor(_verified(), {"actor": {"id": ACTOR, "type": "Person"}})


def test_another_key_of_the_same_server_is_refused() -> None:
    """Signer and actor must be one: a server's key does not speak for its other actors."""
    with pytest.raises(SignatureError) as caught:
        check_signer_is_actor(_verified(), {"actor": "https://remote.example/users/bob"})
    assert caught.value.reason.endswith("not by actor https://remote.example/users/bob")


def test_signer_on_another_host_is_refused() -> None:
    with pytest.raises(SignatureError) as caught:
        check_signer_is_actor(_verified(), {"actor": "https://elsewhere.example/users/ana"})
    assert caught.value.reason == (
        f"the request was signed by {ACTOR}, not by actor https://elsewhere.example/users/ana"
    )


@pytest.mark.parametrize(
    "activity_id",
    [
        "https://remote.example/activities/1",
        "https://REMOTE.example:443/users/ana#delete",
    ],
)
def test_activity_id_on_the_signers_origin_is_accepted(activity_id: str) -> None:
    check_activity_origin(_verified(), {"id": activity_id, "actor": ACTOR})


@pytest.mark.parametrize(
    "activity_id",
    [
        "https://elsewhere.example/users/x#delete",
        "http://remote.example/activities/1",
        "https://remote.example:8443/activities/1",
        "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        None,
    ],
)
def test_activity_id_on_another_origin_is_403(activity_id: str | None) -> None:
    with pytest.raises(Forbidden, match="not on the origin of its signer"):
        check_activity_origin(_verified(), {"id": activity_id, "actor": ACTOR})


def test_activity_without_actor_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="no actor"):
        check_signer_is_actor(_verified(), {"type": "Create"})


# --- bounded bodies -------------------------------------------------------------------------


async def _limited_server(aiohttp_server: Any, limit: int) -> Any:
    async def handler(request: web.Request) -> web.Response:
        try:
            body = await read_limited_body(request, limit)
        except FederationError as exc:
            return web.json_response({"error": exc.reason}, status=exc.http_status)
        return web.json_response({"length": len(body)})

    app = web.Application()
    app.router.add_post("/inbox", handler)
    return await aiohttp_server(app, host="127.0.0.1")


async def test_declared_length_over_the_limit_is_413(aiohttp_server: Any) -> None:
    server = await _limited_server(aiohttp_server, 100)
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url("/inbox"), data=b"x" * 101) as response,
    ):
        assert response.status == 413
        assert (await response.json())["error"] == (
            "the body (101 bytes) exceeds the limit of 100 bytes"
        )


async def test_streamed_body_over_the_limit_is_413(aiohttp_server: Any) -> None:
    server = await _limited_server(aiohttp_server, 100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 30

    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url("/inbox"), data=chunks()) as response,
    ):
        assert response.status == 413
        assert (await response.json())["error"] == "the body exceeds the limit of 100 bytes"


async def test_body_at_the_limit_is_read(aiohttp_server: Any) -> None:
    server = await _limited_server(aiohttp_server, 100)
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url("/inbox"), data=b"z" * 100) as response,
    ):
        assert (await response.json()) == {"length": 100}


def test_payload_too_large_is_413() -> None:
    assert PayloadTooLarge("x").http_status == 413


async def test_current_time_is_the_default(rsa_pair: KeyPair, static_keys: StaticKeys) -> None:
    headers = sign_request("POST", INBOX, {}, BODY, rsa_pair.signer())
    verified = await verify_request("POST", "/inbox", headers, BODY, static_keys)
    assert verified.owner == ACTOR
    stale = sign_request("POST", INBOX, {}, BODY, rsa_pair.signer(), now=time.time() - 7200)
    with pytest.raises(SignatureError, match="too old"):
        await verify_request("POST", "/inbox", stale, BODY, static_keys)


async def test_unusable_cached_key(rsa_pair: KeyPair) -> None:
    keys = StaticKeys()
    keys.keys[KEY_ID] = PublicKeyInfo(KEY_ID, ACTOR, "-----BEGIN PUBLIC KEY-----\nAAAA\n")
    reason = await _reason(_signed(rsa_pair), keys)
    assert reason == f"key {KEY_ID} is not a usable public key"
