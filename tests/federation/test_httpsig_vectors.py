"""Fixed test vectors: published ones (draft-cavage-12 appendix C, RFC 9421 appendix B.2.6)
and our own, generated once with a committed key and checked byte for byte."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.errors import SignatureError
from federation.httpsig import (
    PublicKeyInfo,
    parse_http_date,
    parse_signature_input,
    parse_signatures,
    sign_request,
    verify_request,
)
from federation.httpsig.rfc9421 import signature_base
from federation.keys import Signer, load_private_key, public_pem_of
from tests.federation.fedkit import StaticKeys, sign_rfc9421

DATA = Path(__file__).parent / "vectors"

# draft-cavage-http-signatures-12, appendix C: the "Test" RSA key and request.
CAVAGE_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_NOW = parse_http_date("Sun, 05 Jan 2014 21:31:40 GMT")


def _cavage_keys() -> StaticKeys:
    keys = StaticKeys()
    keys.keys["Test"] = PublicKeyInfo("Test", "https://example.com/actor", CAVAGE_PUBLIC_KEY)
    return keys


async def test_draft_cavage_all_headers_vector() -> None:
    """Appendix C.3: (request-target) host date content-type digest content-length."""
    signature = (
        'keyId="Test",algorithm="rsa-sha256",'
        'headers="(request-target) host date content-type digest content-length",'
        'signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32Nf'
        "pB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOk"
        'R0Zkly4zKH7s1dE="'
    )
    verified = await verify_request(
        "POST",
        "/foo?param=value&pet=dog",
        CAVAGE_HEADERS | {"Signature": signature},
        CAVAGE_BODY,
        _cavage_keys(),
        now=CAVAGE_NOW,
    )
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        "Test",
        "cavage",
        "rsa-sha256",
    )


async def test_draft_cavage_basic_vector_is_refused_for_a_post() -> None:
    """Appendix C.2 verifies cryptographically, but a POST must cover the digest."""
    authorization = (
        'Signature keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date", '
        'signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7'
        "ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn0"
        '4swr2Os0="'
    )
    headers = CAVAGE_HEADERS | {"Authorization": authorization}
    with pytest.raises(SignatureError, match="a POST signature must cover digest"):
        await verify_request(
            "POST",
            "/foo?param=value&pet=dog",
            headers,
            CAVAGE_BODY,
            _cavage_keys(),
            now=CAVAGE_NOW,
        )


# RFC 9421 appendix B.1.4 (test-key-ed25519) and B.2.6 (signing a request using ed25519).
RFC9421_ED25519_PUBLIC = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
RFC9421_ED25519_SEED = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@method": POST\n"@path": /foo\n'
    '"@authority": example.com\n"content-type": application/json\n"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)
B2_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwE"
        "mTHWXvJwew==:"
    ),
    "Content-Length": "18",
}


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_rfc9421_b26_signature_base_and_signature() -> None:
    inner = parse_signature_input(B26_INPUT)["sig-b26"]
    lowered = {name.lower(): value for name, value in B2_HEADERS.items()}
    base = signature_base(inner, "POST", "https", "/foo?param=Value&Pet=dog", lowered)
    assert base == B26_BASE
    signature = parse_signatures(B26_SIGNATURE)["sig-b26"]
    key = ed25519.Ed25519PublicKey.from_public_bytes(_b64url(RFC9421_ED25519_PUBLIC))
    key.verify(signature, base.encode())  # raises InvalidSignature on mismatch
    # Ed25519 is deterministic: signing the base with the seed gives the published value.
    private = ed25519.Ed25519PrivateKey.from_private_bytes(_b64url(RFC9421_ED25519_SEED))
    assert private.sign(base.encode()) == signature


async def test_rfc9421_b26_verifies_but_a_post_must_cover_content_digest() -> None:
    seed = ed25519.Ed25519PrivateKey.from_private_bytes(_b64url(RFC9421_ED25519_SEED))
    keys = StaticKeys()
    keys.keys["test-key-ed25519"] = PublicKeyInfo(
        "test-key-ed25519", "https://example.com/actor", public_pem_of(seed)
    )
    headers = B2_HEADERS | {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    now = 1618884473 + 10
    with pytest.raises(SignatureError, match="a POST signature must cover content-digest"):
        await verify_request("POST", "/foo?param=Value&Pet=dog", headers, b"", keys, now=now)


# --- our own vectors -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "vectors.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def vector_signer(vectors: dict[str, Any]) -> Signer:
    return Signer(vectors["key_id"], (DATA / "vector-rsa-2048.pem").read_text())


def _vector_keys(vectors: dict[str, Any]) -> StaticKeys:
    keys = StaticKeys()
    public = (DATA / "vector-rsa-2048.pub.pem").read_text()
    keys.keys[vectors["key_id"]] = PublicKeyInfo(vectors["key_id"], vectors["owner"], public)
    return keys


def test_vector_public_key_matches_the_private_key() -> None:
    private = load_private_key((DATA / "vector-rsa-2048.pem").read_text())
    assert public_pem_of(private) == (DATA / "vector-rsa-2048.pub.pem").read_text()


@pytest.mark.parametrize(
    ("name", "sign", "method", "url_key"),
    [
        ("cavage_post", sign_request, "POST", "url"),
        ("rfc9421_post", sign_rfc9421, "POST", "url"),
        ("cavage_get", sign_request, "GET", "get_url"),
    ],
)
async def test_our_vectors_are_reproduced_and_verify(
    name: str,
    sign: Any,
    method: str,
    url_key: str,
    vectors: dict[str, Any],
    vector_signer: Signer,
) -> None:
    body = vectors["body"].encode() if method == "POST" else None
    extra = (
        {"Content-Type": "application/activity+json"}
        if method == "POST"
        else {"Accept": "application/activity+json"}
    )
    headers = sign(method, vectors[url_key], extra, body, vector_signer, now=vectors["now"])
    assert headers == vectors[name]
    path = vectors[url_key].split("peer.example", 1)[1]
    verified = await verify_request(
        method, path, vectors[name], body or b"", _vector_keys(vectors), now=vectors["now"] + 5
    )
    assert verified.owner == vectors["owner"]
