"""Activities a Fedify peer sent copub, recorded as copub's inbox received them.

Recorded by the scenarios in test_fedify_scenarios.py with ``COPUB_RECORD_FIXTURES=1``
(tests/fixtures/activities/fedify/<kind>/<name>.json; the Fedify version in VERSION).
Each one must parse the way copub's inbox parses it, and come back unchanged from a
JSON-LD expansion and compaction over copub's offline contexts. The peer's keys are
fixed (tests/interop/peer-keys.json), so the Linked Data signature (RsaSignature2017) and
the Object Integrity Proof (FEP-8b32, eddsa-jcs-2022) Fedify attached are checked too:
that proves the files are the bytes Fedify signed, and that copub's shipped contexts
canonicalize them as Fedify does. No Node.js needed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from pyld import jsonld

from federation.inbox import parse_activity
from federation.jsonld import compact, expand, strip_proofs
from federation.loader import document_loader

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "activities" / "fedify"
RECORDED = sorted(FIXTURES.glob("*/*.json"))
KINDS = {"follow": "Follow", "create": "Create", "undo": "Undo", "like": "Like"}

Json = dict[str, Any]


def load(path: Path) -> Json:
    return parse_activity(path.read_bytes())


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def peer_keys() -> tuple[rsa.RSAPublicKey, ed25519.Ed25519PublicKey]:
    keys = json.loads((HERE / "peer-keys.json").read_text())
    n, e = (int.from_bytes(_b64url(keys["rsa"][k]), "big") for k in ("n", "e"))
    ed = ed25519.Ed25519PublicKey.from_public_bytes(_b64url(keys["ed25519"]["x"]))
    return rsa.RSAPublicNumbers(e, n).public_key(), ed


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON, for documents without floating-point numbers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_integrity_proof(document: Json, key: ed25519.Ed25519PublicKey) -> None:
    """FEP-8b32 / eddsa-jcs-2022: Ed25519 over sha256(proof options) + sha256(document)."""
    proof = dict(document["proof"])
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    signature = base58btc(proof.pop("proofValue").removeprefix("z"))
    unsigned = {k: v for k, v in document.items() if k not in ("proof", "signature")}
    data = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(jcs(unsigned)).digest()
    key.verify(signature, data)  # InvalidSignature when it does not hold


def _nquads_sha256(document: Json) -> str:
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
    }
    return hashlib.sha256(jsonld.normalize(document, options).encode()).hexdigest()


def verify_ld_signature(document: Json, key: rsa.RSAPublicKey) -> None:
    """RsaSignature2017 (Mastodon's Linked Data signature), over copub's offline contexts."""
    signature = document["signature"]
    assert signature["type"] == "RsaSignature2017"
    options = {
        "@context": "https://w3id.org/identity/v1",
        "creator": signature["creator"],
        "created": signature["created"],
    }
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    data = (_nquads_sha256(options) + _nquads_sha256(unsigned)).encode()
    key.verify(
        base64.b64decode(signature["signatureValue"]), data, padding.PKCS1v15(), hashes.SHA256()
    )


def test_every_kind_was_recorded() -> None:
    assert {path.parent.name for path in RECORDED} == set(KINDS)
    assert (FIXTURES / "VERSION").read_text().startswith("@fedify/fedify ")


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_parse_round_trip(path: Path) -> None:
    activity = load(path)
    assert activity["type"] == KINDS[path.parent.name]
    # The inbox's parse keeps every byte of meaning: JSON in, the same JSON out
    assert json.loads(json.dumps(activity)) == json.loads(path.read_text())
    # And JSON-LD over copub's offline contexts loses and invents nothing
    document = strip_proofs(activity)
    assert compact(expand(document), document["@context"]) == document


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_signatures_fedify_attached_verify(path: Path) -> None:
    activity = load(path)
    rsa_key, ed_key = peer_keys()
    assert activity["signature"]["creator"] == activity["actor"] + "#main-key"
    assert activity["proof"]["verificationMethod"].startswith(activity["actor"] + "#")
    verify_integrity_proof(activity, ed_key)
    verify_ld_signature(activity, rsa_key)


def test_an_altered_activity_fails_both_checks() -> None:
    activity = load(FIXTURES / "create" / "create-note-mention.json")
    altered = copy.deepcopy(activity)
    altered["object"]["content"] += " (altered)"
    rsa_key, ed_key = peer_keys()
    with pytest.raises(InvalidSignature):
        verify_integrity_proof(altered, ed_key)
    with pytest.raises(InvalidSignature):
        verify_ld_signature(altered, rsa_key)


def test_the_create_mentions_the_community_publicly() -> None:
    create = load(FIXTURES / "create" / "create-note-mention.json")
    note = create["object"]
    assert create["to"] == note["to"] == "as:Public"  # Fedify compacts the Public collection
    assert note["tag"]["type"] == "Mention"  # one tag: an object, not a list
    assert note["attributedTo"] == create["actor"]
    reply = load(FIXTURES / "create" / "create-note-reply.json")
    assert reply["object"]["inReplyTo"].startswith("https://localhost:")
