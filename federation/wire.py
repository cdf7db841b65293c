"""Reading activities off the wire: the media types we take and the JSON parse.

Every body from another server or a client goes through :func:`parse_json`, so whatever
the parser refuses (nesting too deep for it, an integer of thousands of digits, ``NaN``,
bytes that are not UTF-8) is one ``ValueError`` the caller turns into a 400, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from federation.errors import UnsupportedMediaType

# What an inbox or the authoring API takes. application/ld+json is taken with any profile
# (Mastodon sends it with the ActivityStreams profile, some servers without).
ACTIVITY_MEDIA_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)


def media_type(content_type: str | None) -> str:
    """``type/subtype`` of a Content-Type value, lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_activity_media_type(content_type: str | None) -> None:
    """UnsupportedMediaType (415) unless ``content_type`` (the raw header) names an activity.

    A missing Content-Type is refused too: every server we have traffic of (Mastodon,
    Lemmy, NodeBB, the Discourse plugin, Fedify) sends one, and HTTP signatures cover it.
    """
    if media_type(content_type) not in ACTIVITY_MEDIA_TYPES:
        shown = content_type if content_type else "none"
        raise UnsupportedMediaType(
            f"Content-Type {shown!r} is not an activity; send application/activity+json"
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes | str) -> Any:
    """The JSON value of ``data`` (bytes: UTF-8, as RFC 8259 wants between systems; the
    parser alone would also take UTF-16 and UTF-32); ValueError (with the reason) for
    anything else."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
