"""The requests both schemes work on: :class:`Outgoing`, about to be signed, and
:class:`Received`, signed by someone else and being checked (with :func:`check_covered`,
what both schemes check of the headers a signature covers)."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from federation.errors import SignatureError
from federation.httpsig.common import (
    SIGNER_OWNED_HEADERS,
    check_time_window,
    http_date,
    parse_http_date,
    split_url,
)
from federation.httpsig.digest import verify_content_digest, verify_digest
from federation.vocab import AS2_MEDIA_TYPE


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request about to be signed, as both schemes sign it. ``headers`` are the ones it will
    carry: the caller's (less those the signer sets), ``Host`` and ``Date``, and with a body
    its ``Content-Type`` (ActivityStreams unless the caller set one)."""

    method: str  # upper case
    scheme: str
    authority: str
    target: str  # path and query
    body: bytes | None
    created: int  # when it is signed, in seconds since the epoch
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (in any case), if the request carries it."""
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)


def outgoing(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: float | None = None,
) -> Outgoing:
    """The request to ``url`` with ``headers`` and ``body``, ready for a scheme to sign."""
    scheme, host, target = split_url(url)
    created = int(time.time() if now is None else now)
    out = {"Host": host, "Date": http_date(created)}
    out.update((k, v) for k, v in headers.items() if k.lower() not in SIGNER_OWNED_HEADERS)
    request = Outgoing(method.upper(), scheme, host, target, body, created, out)
    if body is not None and request.header("content-type") is None:
        out["Content-Type"] = AS2_MEDIA_TYPE
    return request


@dataclass(frozen=True, slots=True)
class Received:
    """A signed request as both schemes check it, with the time it is checked at.
    ``headers`` is a lower-cased copy (``lower_headers``): cavage adds its pseudo-headers."""

    method: str  # upper case
    scheme: str  # lower case: the scheme of the server's own URLs (for ``@target-uri``)
    target: str  # path and query, as received
    headers: dict[str, str]
    body: bytes
    now: float
    max_skew: float  # how far the signature's times may be from ``now``, in seconds


def check_covered(request: Received, covered: Collection[str]) -> None:
    """What both schemes check of the headers a signature covers: a ``Date`` within
    ``max_skew`` of now, and ``Digest`` / ``Content-Digest`` against the body."""
    headers = request.headers
    if "date" in covered:
        try:
            date = parse_http_date(headers.get("date", ""))
        except ValueError as exc:
            raise SignatureError("the Date header is missing or invalid") from exc
        check_time_window("Date", date, request.now, request.max_skew)
    if "digest" in covered:
        verify_digest(headers.get("digest", ""), request.body)
    if "content-digest" in covered:
        verify_content_digest(headers.get("content-digest", ""), request.body)
