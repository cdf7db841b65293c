"""Content negotiation and JSON responses."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from federation.vocab import AS2_MEDIA_TYPE

AS2_TYPES = ("application/activity+json", "application/ld+json")


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.lower().startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def wants_html(request: web.Request) -> bool:
    """True when the client prefers HTML over ActivityStreams JSON.

    ActivityPub clients name an AS2 type; browsers name text/html. A bare
    ``*/*`` (curl) gets JSON.
    """
    return _prefers_html(request.headers.get("Accept", ""))


# each Accept header's answer: clients send a few, the same with every request
PREFERENCES_KEPT = 512


@functools.lru_cache(maxsize=PREFERENCES_KEPT)
def _prefers_html(accept: str) -> bool:
    ranges = _media_ranges(accept)
    best_as2 = max((q for m, q in ranges if m in AS2_TYPES), default=0.0)
    best_html = max(
        (q for m, q in ranges if m in ("text/html", "application/xhtml+xml")), default=0.0
    )
    return best_html > best_as2


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def activity_response(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        text=dumps(data),
        status=status,
        content_type=AS2_MEDIA_TYPE,
        headers={"Vary": "Accept"},
    )


def activity_body_response(body: bytes, *, status: int = 200) -> web.Response:
    return web.Response(
        body=body,
        status=status,
        content_type=AS2_MEDIA_TYPE,
        headers={"Vary": "Accept"},
    )


def json_response(
    data: Any, *, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type=content_type)


def json_error(status: int, reason: str, field: str | None = None) -> web.Response:
    """``{"error": reason}``, with ``"field"`` (the input it is about) when there is one."""
    body = {"error": reason} if field is None else {"error": reason, "field": field}
    return json_response(body, status=status)
