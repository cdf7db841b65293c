"""draft-cavage-http-signatures-12, as Mastodon signs and checks it."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import SignatureError
from ..keys import Signer
from ..vocab import AS2_MEDIA_TYPE
from .common import (
    Prepared,
    check_time_window,
    encode_base,
    http_date,
    parse_http_date,
    sign_bytes,
    split_url,
)
from .digest import digest_header, verify_content_digest, verify_digest

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
ALGORITHMS = frozenset({"rsa-sha256", "hs2019", "ed25519"})
_PARAM = re.compile(r'[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(?:"([^"]*)"|([0-9.]+))[ \t]*(?:,|$)')
_DROP = frozenset({"host", "date", "digest", "signature", "signature-input", "content-digest"})


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    signer: Signer,
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The full header set for a request signed the way Mastodon signs.

    With a body: ``(request-target) host date digest content-type`` (Content-Type defaults
    to ``application/activity+json``). Without: ``(request-target) host date`` plus
    ``accept`` when the caller sets one. Returns ``headers`` plus Host, Date, Digest and
    Signature.
    """
    _scheme, host, target = split_url(url)
    date = http_date(now)
    out = {"Host": host, "Date": date}
    accept = content_type = None
    for name, value in headers.items():
        lower = name.lower()
        if lower in _DROP:
            continue
        if lower == "accept":
            accept = value
        elif lower == "content-type":
            content_type = value
        out[name] = value
    lines = f"(request-target): {method.lower()} {target}\nhost: {host}\ndate: {date}"
    if body is not None:
        digest = out["Digest"] = digest_header(body)
        if content_type is None:
            content_type = out["Content-Type"] = AS2_MEDIA_TYPE
        lines += f"\ndigest: {digest}\ncontent-type: {content_type}"
        names = "(request-target) host date digest content-type"
    elif accept is not None:
        lines += f"\naccept: {accept}"
        names = "(request-target) host date accept"
    else:
        names = "(request-target) host date"
    key = signer.private_key
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
    signature = base64.b64encode(sign_bytes(key, lines.encode("utf-8"))).decode("ascii")
    out["Signature"] = (
        f'keyId="{signer.key_id}",algorithm="{algorithm}",headers="{names}",'
        f'signature="{signature}"'
    )
    return out


def parse_signature_header(value: str) -> dict[str, str]:
    """Parameters of a cavage ``Signature`` header, keyed by lower-case name."""
    if value[:10].lower() == "signature ":  # the Authorization form
        value = value[10:]
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while pos < end:
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            if not value[pos:].strip(" \t,"):
                break
            raise SignatureError("malformed Signature header")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"Signature header repeats {name!r}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    if "keyid" not in params or "signature" not in params:
        raise SignatureError("Signature header lacks keyId or signature")
    return params


def _check_coverage(method: str, signed: set[str]) -> None:
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("the signature must cover date or (created)")
    if method in ("GET", "HEAD") and "host" not in signed:
        raise SignatureError("a GET signature must cover host")
    if method in BODY_METHODS:
        if "(request-target)" not in signed:
            raise SignatureError(f"a {method} signature must cover (request-target)")
        if "digest" not in signed and "content-digest" not in signed:
            raise SignatureError(f"a {method} signature must cover digest")


def _number(params: dict[str, str], name: str) -> float:
    try:
        return float(params[name])
    except (KeyError, ValueError) as exc:
        raise SignatureError(f"signature parameter {name} is missing or not a number") from exc


def prepare_cavage(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    now: float,
    max_skew: float,
) -> Prepared:
    """Everything but the key: parse, coverage, time window, digest, signing string."""
    raw = headers.get("signature") or headers.get("authorization", "")
    params = parse_signature_header(raw)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    names = params.get("headers", "date").lower().split()
    if not names:
        raise SignatureError("the signature covers no headers")
    signed = set(names)
    _check_coverage(method, signed)
    if "(created)" in signed or "created" in params:
        check_time_window("created", _number(params, "created"), now, max_skew)
    if ("(expires)" in signed or "expires" in params) and _number(params, "expires") < now:
        raise SignatureError("the signature has expired")
    if "date" in signed:
        try:
            date = parse_http_date(headers.get("date", ""))
        except ValueError as exc:
            raise SignatureError("the Date header is missing or invalid") from exc
        check_time_window("Date", date, now, max_skew)
    if "digest" in signed:
        verify_digest(headers.get("digest", ""), body)
    if "content-digest" in signed:
        verify_content_digest(headers.get("content-digest", ""), body)
    lines = []
    for name in names:
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name in ("(created)", "(expires)"):
            value = params[name[1:-1]]
        elif name in headers:
            value = headers[name]
        else:
            raise SignatureError(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}: {value}")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not valid base64") from exc
    return Prepared(
        "cavage",
        params["keyid"],
        None if algorithm == "hs2019" else algorithm,
        encode_base("\n".join(lines)),
        signature,
    )
