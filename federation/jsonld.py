"""JSON-LD processing with pyld over the offline loader: for background work only.

pyld costs milliseconds a document; keep it off the inbox path (plain JSON there).
Documents whose contexts we do not ship raise :class:`UnknownContext` before pyld runs.

Where it is used: the inbox processor reads an activity whose context renames
ActivityStreams terms (:func:`renames_terms`: ``{"texte": "as:content"}``, ``as:Note`` for
``Note``, ``@id`` for ``id``) through :func:`compact_activity`, so its terms have their plain
names. Plain documents, which is what every server we federate with sends, skip pyld.

pyld itself is imported by the functions that run it, when first called: a process that
never meets such a document does not load it.
"""

from __future__ import annotations

from typing import Any

from federation.loader import (
    JsonLdProcessingError,
    UnknownContext,
    context_urls,
    contexts_known,
    document_loader,
    is_known_context,
)
from federation.vocab import AS_CONTEXT, JSON, actor_of, json_objects, types_of

__all__ = [
    "JsonLdProcessingError",
    "UnknownContext",
    "compact",
    "compact_activity",
    "contexts_known",
    "expand",
    "renames_terms",
    "strip_proofs",
]

PROOF_KEYS = ("signature", "proof")
# How an ActivityStreams term is written other than by its name: prefixed or in full.
_AS_SPELLINGS = ("as:", f"{AS_CONTEXT}#", "http://www.w3.org/ns/activitystreams#")
_KEYWORD_KEYS = frozenset({"@id", "@type"})  # JSON-LD's own names where id and type go
_CONTEXT_KEYS = frozenset({"@context"})  # definitions, not data: not walked as a document


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
    from pyld import jsonld

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
    from pyld import jsonld

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


def _as_term(iri: object) -> str | None:
    """The ActivityStreams term an IRI names (``as:Note``, its full IRI), else None."""
    if isinstance(iri, str) and iri.startswith(_AS_SPELLINGS):
        for spelling in _AS_SPELLINGS:
            if iri.startswith(spelling):
                return iri[len(spelling) :]
    return None


def _renames(term: str, definition: Any) -> bool:
    """A term definition that gives an ActivityStreams term another name."""
    iri = definition.get("@id") if isinstance(definition, dict) else definition
    name = _as_term(iri)
    return bool(name) and name != term  # "" is the namespace itself: a prefix, not a term


def _entries(context: Any) -> list[Any]:
    return context if isinstance(context, list) else [] if context is None else [context]


def _renaming_context(context: Any) -> bool:
    """An inline context that gives an ActivityStreams term another name."""
    return any(
        _renames(term, definition)
        for entry in _entries(context)
        if isinstance(entry, dict)
        for term, definition in entry.items()
    )


def _plain_context(context: Any) -> list[Any]:
    """A document's own context without the definitions that rename ActivityStreams terms
    (and with ActivityStreams itself first when the document did not name it): compacted
    to it, a document keeps its extensions' terms and gets the plain ActivityStreams names."""
    kept = [
        {t: d for t, d in entry.items() if not _renames(t, d)} if isinstance(entry, dict) else entry
        for entry in _entries(context)
    ]
    return kept if AS_CONTEXT in kept else [AS_CONTEXT, *kept]


def renames_terms(document: Any) -> bool:
    """True when ``document`` names an ActivityStreams term other than by its name: a context
    of its own that renames one (``{"texte": "as:content"}``; Mastodon's
    ``{"sensitive": "as:sensitive"}`` keeps the name), a key or a type written as an IRI or
    a prefixed name (``as:content``, ``as:Note``), or ``@id`` / ``@type`` as keys.

    One walk over the parsed document, no pyld: cheap enough for every activity."""
    for node in json_objects(document, skip=_CONTEXT_KEYS):
        if _renaming_context(node.get("@context")):
            return True
        if any(key in _KEYWORD_KEYS or key.startswith(_AS_SPELLINGS) for key in node):
            return True
        if any(_as_term(name) for name in types_of(node)):
            return True
    return False


def compact_activity(activity: JSON) -> JSON | None:
    """``activity`` compacted to its own context less the definitions that rename
    ActivityStreams terms, so those terms have their plain names; without LD signatures or
    proofs (they no longer hold for the compacted form).

    None when that cannot be done offline (a context we do not ship), pyld fails, or the
    compacted form would have another ``id``, ``actor`` or ``type``: those are what the inbox
    checked before its 202 (the signer is the actor, the id on the signer's origin)."""
    try:
        compacted = compact(strip_proofs(activity), _plain_context(activity.get("@context")))
    # pyld on a hostile document may raise anything (RecursionError on deep nesting): the
    # caller then reads the activity as it came.
    except Exception:  # noqa: BLE001 (see above)
        return None
    same = (
        compacted.get("id") == activity.get("id")
        and actor_of(compacted) == actor_of(activity)
        and types_of(compacted) == types_of(activity)
    )
    return compacted if same else None
