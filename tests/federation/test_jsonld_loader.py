"""The offline JSON-LD loader and the pyld wrappers; which activities rename
ActivityStreams terms, and their compaction to the plain names."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from federation.jsonld import compact, compact_activity, expand, renames_terms, strip_proofs
from federation.loader import (
    CONTEXT_FILES,
    UnknownContext,
    context_file,
    context_urls,
    contexts_known,
    document_loader,
    inline_context,
    load_context,
)

AS = "https://www.w3.org/ns/activitystreams#"
AS_URL = "https://www.w3.org/ns/activitystreams"
TOOT = "http://joinmastodon.org/ns#"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test: the loader must stay offline."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams/",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "https://www.w3.org/ns/activitystreams#",
        "HTTPS://WWW.W3.ORG/ns/activitystreams",
    ],
)
def test_activitystreams_spellings(url: str) -> None:
    document = document_loader(url)
    assert document["documentUrl"] == url
    assert document["document"]["@context"]["as"] == AS


@pytest.mark.parametrize(
    "url",
    [
        "https://w3id.org/security/v1",
        "http://w3id.org/security/v1",
        "https://w3id.org/security/v2",
        "https://purl.archive.org/socialweb/webfinger",
        "http://purl.archive.org/socialweb/webfinger",
        "http://joinmastodon.org/ns",
        "https://joinmastodon.org/ns",
        "https://join-lemmy.org/context.json",
        "https://w3id.org/fep/8a8e",
        "https://w3id.org/identity/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/multikey/v1",
        "https://gotosocial.org/ns",
    ],
)
def test_known_contexts_load_offline(url: str) -> None:
    assert "@context" in load_context(url)


def test_every_shipped_context_parses_and_refers_only_to_known_contexts() -> None:
    for url in CONTEXT_FILES:
        document = load_context(url)
        assert contexts_known(document), (url, list(context_urls(document)))
    assert contexts_known({"@context": inline_context("mobilizon")})


def test_loaded_contexts_are_fresh_copies() -> None:
    first = load_context("https://w3id.org/security/v1")
    first["@context"]["mutated"] = True
    assert "mutated" not in load_context("https://w3id.org/security/v1")["@context"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "https://w3id.org/security/v3",
        "http://schema.org/",
        "ftp://www.w3.org/ns/activitystreams",
        "not a url",
    ],
)
def test_unknown_contexts_are_never_fetched(url: str) -> None:
    assert context_file(url) is None
    with pytest.raises(UnknownContext) as caught:
        document_loader(url)
    assert caught.value.url == url
    assert caught.value.http_status == 400


def _mastodon_note() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "Hashtag": "as:Hashtag",
            },
        ],
        "id": "https://social.example/users/ana/statuses/1/activity",
        "type": "Create",
        "actor": "https://social.example/users/ana",
        "published": "2024-05-01T10:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": "https://social.example/users/ana/statuses/1",
            "type": "Note",
            "content": "<p>Composting in winter?</p>",
            "sensitive": False,
            "atomUri": "https://social.example/users/ana/statuses/1",
            "tag": [
                {
                    "type": "Hashtag",
                    "name": "#compost",
                    "href": "https://social.example/tags/compost",
                }
            ],
        },
        "signature": {
            "type": "RsaSignature2017",
            "creator": "https://social.example/users/ana#main-key",
            "created": "2024-05-01T10:00:01Z",
            "signatureValue": "c2lnbmF0dXJl",
        },
    }


def test_expanding_a_mastodon_note_with_an_ld_signature() -> None:
    (expanded,) = expand(_mastodon_note())
    assert expanded["@type"] == [f"{AS}Create"]
    note = expanded[f"{AS}object"][0]
    assert note[f"{AS}content"][0]["@value"] == "<p>Composting in winter?</p>"
    assert note["http://ostatus.org#atomUri"] == [
        {"@value": "https://social.example/users/ana/statuses/1"}
    ]
    (signature,) = expanded["https://w3id.org/security#signature"]
    assert signature["https://w3id.org/security#signatureValue"] == [{"@value": "c2lnbmF0dXJl"}]
    assert signature["http://purl.org/dc/terms/creator"] == [
        {"@id": "https://social.example/users/ana#main-key"}
    ]


def test_compacting_back_to_activitystreams() -> None:
    compacted = compact(expand(_mastodon_note()))
    assert compacted["@context"] == "https://www.w3.org/ns/activitystreams"
    assert compacted["type"] == "Create"
    assert compacted["object"]["content"] == "<p>Composting in winter?</p>"


def test_expansion_with_an_unknown_context_raises_before_pyld() -> None:
    document = _mastodon_note()
    document["@context"].append("https://unknown.example/ns")
    assert not contexts_known(document)
    with pytest.raises(UnknownContext, match=r"unknown\.example"):
        expand(document)


def test_nested_and_scoped_contexts_are_checked() -> None:
    nested = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "object": {"@context": "https://unknown.example/ns", "type": "Note"},
    }
    scoped = {"@context": [{"Thing": {"@id": "x:Thing", "@context": "https://unknown.example/s"}}]}
    imported = {"@context": {"@import": "https://unknown.example/i"}}
    for document in (nested, scoped, imported):
        assert not contexts_known(document)
        with pytest.raises(UnknownContext):
            expand(document)


def test_fep_8b32_proof_is_tolerated_and_strippable() -> None:
    document = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v1",
        ],
        "id": "https://social.example/notes/1",
        "type": "Note",
        "content": "hello",
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": "https://social.example/users/ana#ed25519-key",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3sXaxjKs4M",
            "created": "2024-05-01T10:00:00Z",
        },
    }
    (expanded,) = expand(document)
    assert expanded["@type"] == [f"{AS}Note"]
    original = copy.deepcopy(document)
    stripped = strip_proofs(document)
    assert "proof" not in stripped
    assert "signature" not in strip_proofs(_mastodon_note())
    assert document == original  # not modified in place
    assert json.loads(json.dumps(stripped))["content"] == "hello"


def test_plain_json_without_context_expands_to_nothing() -> None:
    assert expand({"id": "https://x.example/1", "type": "Note"}) == []


# -- activities whose context renames ActivityStreams terms ------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.rglob("*.json")), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_recorded_payloads_name_their_terms_plainly(path: Path) -> None:
    """What real servers send (Mastodon, Lemmy, NodeBB, Mobilizon, ...) never goes to pyld."""
    assert not renames_terms(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "document",
    [
        {"@context": [AS_URL, {"texte": "as:content"}], "texte": "x"},
        {"@context": [AS_URL, {"auteur": {"@id": f"{AS}attributedTo"}}], "type": "Note"},
        {"@context": AS_URL, "type": "as:Note"},
        {"@context": AS_URL, "type": ["Note", f"{AS}Article"]},
        {"@context": AS_URL, "object": {"as:content": "x"}},
        {"@context": AS_URL, "@id": "https://x.example/1", "type": "Note"},
    ],
)
def test_renamed_terms_are_found(document: dict[str, Any]) -> None:
    assert renames_terms(document)


@pytest.mark.parametrize(
    "document",
    [
        _mastodon_note(),
        {"@context": [AS_URL, {"as": AS, "sensitive": "as:sensitive"}], "type": "Note"},
        {"@context": [AS_URL, {"toot": "http://joinmastodon.org/ns#"}], "type": "Note"},
        {"@context": AS_URL, "type": ["Note", "http://schema.org/Something"]},
        {"id": "https://x.example/1", "type": "Note", "content": "no context at all"},
    ],
)
def test_plain_names_and_extensions_are_not_renamings(document: dict[str, Any]) -> None:
    assert not renames_terms(document)


def test_a_renamed_activity_compacts_to_the_plain_names_and_keeps_its_extensions() -> None:
    activity = {
        "@context": [AS_URL, {"Billet": "as:Note", "texte": "as:content", "toot": TOOT}],
        "id": "https://x.example/1/activity",
        "type": "Create",
        "actor": "https://x.example/users/ana",
        "object": {"id": "https://x.example/1", "type": "Billet", "texte": "<p>Hi</p>"},
        "toot:indexable": True,
    }
    compacted = compact_activity(activity)
    assert compacted is not None
    assert compacted["@context"] == [AS_URL, {"toot": TOOT}]
    assert compacted["object"] == {
        "id": "https://x.example/1",
        "type": "Note",
        "content": "<p>Hi</p>",
    }
    assert compacted["toot:indexable"] is True


@pytest.mark.parametrize(
    ("term", "value"),
    [
        ("par", {"@id": "as:actor", "@type": "@id"}),  # a second actor
        ("ident", "@id"),  # a second id (pyld refuses it)
    ],
)
def test_compaction_never_changes_the_id_actor_or_type(term: str, value: Any) -> None:
    activity = {
        "@context": [AS_URL, {term: value}],
        "id": "https://x.example/f/1",
        "type": "Follow",
        "actor": "https://x.example/users/bob",
        "object": "https://cop.test/c/nightshift",
        term: "https://x.example/users/mallory",
    }
    assert compact_activity(activity) is None


def test_an_unknown_context_is_not_compacted() -> None:
    activity = {
        "@context": [AS_URL, "https://unknown.example/ns", {"texte": "as:content"}],
        "id": "https://x.example/1",
        "type": "Note",
        "texte": "x",
    }
    assert renames_terms(activity)
    assert compact_activity(activity) is None
