"""JSON-LD processing with pyld over the offline loader: for background work only.

pyld costs milliseconds a document; keep it off the inbox path (plain JSON there).
Documents whose contexts we do not ship raise :class:`UnknownContext` before pyld runs.
"""

from __future__ import annotations

from typing import Any

from pyld import jsonld

from federation.loader import (
    JsonLdProcessingError,
    UnknownContext,
    context_urls,
    contexts_known,
    document_loader,
    is_known_context,
)
from federation.vocab import AS_CONTEXT, JSON

__all__ = [
    "JsonLdProcessingError",
    "UnknownContext",
    "compact",
    "contexts_known",
    "expand",
    "strip_proofs",
]

PROOF_KEYS = ("signature", "proof")


def _options(base: str | None) -> dict[str, Any]:
    return {"documentLoader": document_loader, "base": base}


def _check_known(document: Any) -> None:
    for url in context_urls(document):
        if not is_known_context(url):
            raise UnknownContext(url)


def _unknown_cause(exc: BaseException) -> UnknownContext | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UnknownContext):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def expand(document: JSON, *, base: str | None = None) -> list[JSON]:
    """pyld expansion with the offline loader; UnknownContext / JsonLdProcessingError."""
    _check_known(document)
    try:
        expanded: list[JSON] = jsonld.expand(document, _options(base))
    except jsonld.JsonLdError as exc:
        raise _unknown_cause(exc) or JsonLdProcessingError(
            f"JSON-LD expansion failed: {getattr(exc, 'code', None) or exc.args[0]}"
        ) from exc
    return expanded


def compact(document: JSON | list[JSON], context: Any = AS_CONTEXT) -> JSON:
    """pyld compaction (to the ActivityStreams context by default) with the offline loader."""
    _check_known(document)
    _check_known({"@context": context})
    try:
        compacted: JSON = jsonld.compact(document, context, _options(None))
    except jsonld.JsonLdError as exc:
        raise _unknown_cause(exc) or JsonLdProcessingError(
            f"JSON-LD compaction failed: {getattr(exc, 'code', None) or exc.args[0]}"
        ) from exc
    return compacted


def strip_proofs(document: JSON) -> JSON:
    """A shallow copy without top-level ``signature`` (LD Signatures) and ``proof``
    (FEP-8b32 Object Integrity Proofs) blocks, which we do not verify."""
    return {key: value for key, value in document.items() if key not in PROOF_KEYS}
