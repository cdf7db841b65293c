"""ActivityStreams names, wire shapes and small helpers over loose JSON."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

AS2_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_MEDIA_TYPE = "application/jrd+json"

JSON = dict[str, Any]

# The Activity types of the ActivityStreams vocabulary (AS2 Vocabulary, section 3.1): what
# ``main_type`` picks out of a multi-typed activity (a tuple: the choice is the same in
# every process)
ACTIVITY_TYPES = (
    "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag",
    "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer",
    "Question", "Read", "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel",
    "Undo", "Update", "View",
)  # fmt: skip


def as_list(value: Any) -> list[Any]:
    """AS2 properties may be a single value, a list, or absent."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def get_id(value: Any) -> str | None:
    """The id of a link or an embedded object, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        ident = value.get("id") or value.get("href")
        return ident if isinstance(ident, str) else None
    return None


def ids(values: Iterable[Any]) -> list[str]:
    return [i for i in (get_id(v) for v in values) if i]


def is_public(activity: JSON) -> bool:
    audience = as_list(activity.get("to")) + as_list(activity.get("cc"))
    return any(get_id(a) in PUBLIC_ALIASES for a in audience)


def types_of(value: Any) -> frozenset[str]:
    """The `type` of a JSON object as a set: AS2 allows a string or a list of strings.

    Anything else (a missing type, a number, a nested object) gives the empty set, so
    callers compare with ``in`` or ``&`` and never hash a list.
    """
    if not isinstance(value, dict):
        return frozenset()
    raw = value.get("type")
    if isinstance(raw, str):
        return frozenset((raw,))
    if isinstance(raw, list):
        return frozenset(t for t in raw[:8] if isinstance(t, str))
    return frozenset()


def has_type(value: Any, *names: str) -> bool:
    """Whether the object's `type` (a string or a list) names any of ``names``."""
    return not types_of(value).isdisjoint(names)


def main_type(value: Any, known: Iterable[str] = ()) -> str | None:
    """The one type name to store or show: the first of ``known`` the object has, else the
    first string of its ``type`` as sent, else None."""
    raw = value.get("type") if isinstance(value, dict) else None
    if isinstance(raw, str):  # the usual case: one type, the main one
        return raw
    types = types_of(value)
    for name in known:
        if name in types:
            return name
    first = next((t for t in as_list(raw)[:8] if isinstance(t, str)), None)
    return first


def actor_of(activity: Mapping[str, Any]) -> str | None:
    """The id of an activity's actor."""
    return get_id(activity.get("actor"))


def object_id_of(activity: Mapping[str, Any]) -> str | None:
    """The id of an activity's object (a link or an embedded object)."""
    return get_id(activity.get("object"))


def json_objects(document: Any, *, skip: frozenset[str] = frozenset()) -> Iterator[JSON]:
    """Every JSON object in ``document`` (itself included, at any depth, depth first); the
    values of the keys in ``skip`` are not entered. No recursion: depth costs no stack."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            yield node
            stack.extend(v for k, v in node.items() if k not in skip and isinstance(v, dict | list))
