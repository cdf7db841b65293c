"""An offline JSON-LD document loader over the context files shipped in ``contexts/``.

Known context URLs load from package data; any other URL raises :class:`UnknownContext`
and is never fetched: callers then treat the document as plain ActivityStreams JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from federation.errors import BadRequest
from federation.vocab import as_list, json_objects

# Canonical URL -> file in federation/contexts/ (provenance in contexts/SOURCES.md).
CONTEXT_FILES: Mapping[str, str] = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/v2": "security-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/identity/v1": "fedify-identity-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "fedify-did-v1.jsonld",
    "https://purl.archive.org/socialweb/webfinger": "fedify-webfinger.jsonld",
    "https://purl.archive.org/miscellany": "fedify-miscellany.jsonld",
    "http://joinmastodon.org/ns": "fedify-joinmastodon.jsonld",
    "https://join-lemmy.org/context.json": "fedify-join-lemmy.jsonld",
    "https://gotosocial.org/ns": "fedify-gotosocial.jsonld",
    "https://w3id.org/fep/8a8e": "fep-8a8e.jsonld",
    "https://w3id.org/fep/ef61": "fedify-fep-ef61.jsonld",
    "https://w3id.org/fep/5711": "fedify-fep-5711.jsonld",
    "https://w3id.org/fep/7aa9": "fedify-fep-7aa9.jsonld",
}
INLINE_CONTEXTS: Mapping[str, str] = {"mobilizon": "mobilizon-context.jsonld"}


class JsonLdProcessingError(BadRequest):
    """JSON-LD processing failed; handle the document as plain AS2 JSON instead."""


class UnknownContext(JsonLdProcessingError):
    """A context URL we do not ship. It is never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(f"unknown JSON-LD context {url!r} (not fetched)")
        self.url = url


def _normalise(url: str) -> str:
    """The lookup key: no scheme, no empty fragment, no trailing '/' or '.jsonld'."""
    key = url.strip()
    for prefix in ("https://", "http://"):
        if key[: len(prefix)].lower() == prefix:
            key = key[len(prefix) :]
            break
    else:
        return ""
    key = key.removesuffix("#").removesuffix("/").removesuffix(".jsonld")
    host, _, path = key.partition("/")
    return f"{host.lower()}/{path}"


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    return {_normalise(url): name for url, name in CONTEXT_FILES.items()}


@lru_cache(maxsize=64)
def _read(name: str) -> str:
    return (resources.files("federation") / "contexts" / name).read_text("utf-8")


def context_file(url: str) -> str | None:
    """The shipped file for a context URL, or None when we do not know it."""
    return _index().get(_normalise(url)) if isinstance(url, str) else None


def is_known_context(url: str) -> bool:
    return context_file(url) is not None


def load_context(url: str) -> dict[str, Any]:
    """The context document for ``url`` (a fresh copy); UnknownContext otherwise."""
    name = context_file(url)
    if name is None:
        raise UnknownContext(url)
    document: dict[str, Any] = json.loads(_read(name))
    return document


def inline_context(name: str) -> Any:
    """The ``@context`` value of a shipped inline context (e.g. ``"mobilizon"``)."""
    return json.loads(_read(INLINE_CONTEXTS[name]))["@context"]


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld ``documentLoader``: known contexts offline, anything else UnknownContext."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
    }


def context_urls(document: Any) -> Iterator[str]:
    """Every context URL a document refers to: ``@context`` at any depth (also scoped
    contexts inside inline context definitions) and ``@import``."""
    for node in json_objects(document):
        for key in ("@context", "@import"):
            value = node.get(key)
            yield from (v for v in as_list(value) if isinstance(v, str))


def contexts_known(document: Any) -> bool:
    """True when every context the document refers to ships with copub (so expansion
    needs no network); False means: process it as plain AS2 JSON."""
    return all(is_known_context(url) for url in context_urls(document))
