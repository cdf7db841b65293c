"""draft-cavage-http-signatures-12, as Mastodon signs and checks it."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.errors import SignatureError
from federation.httpsig.common import (
    BODY_METHODS,
    Prepared,
    check_time_window,
    encode_base,
    sign_bytes,
)
from federation.httpsig.digest import digest_header
from federation.httpsig.messages import Outgoing, Received, check_covered
from federation.keys import Signer

ALGORITHMS = frozenset({"rsa-sha256", "hs2019", "ed25519"})


def sign_cavage(request: Outgoing, signer: Signer) -> dict[str, str]:
    """``request``'s headers plus Digest and Signature, signed the way Mastodon signs.

    With a body: ``(request-target) host date digest content-type``. Without:
    ``(request-target) host date`` plus ``accept`` when the caller sets one.
    """
    out = dict(request.headers)
    target = f"{request.method.lower()} {request.target}"
    lines = f"(request-target): {target}\nhost: {request.authority}\ndate: {out['Date']}"
    accept = request.header("accept")
    if request.body is not None:
        digest = out["Digest"] = digest_header(request.body)
        lines += f"\ndigest: {digest}\ncontent-type: {request.header('content-type')}"
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
        f'keyId="{signer.key_id}",algorithm="{algorithm}",headers="{names}",signature="{signature}"'
    )
    return out


def parse_signature_header(value: str) -> dict[str, str]:
    """Parameters of a cavage ``Signature`` header, keyed by lower-case name.

    ``name="quoted"`` and ``name=123`` pairs separated by commas. Quoted values cannot hold
    quotes, so splitting on ``"`` sets them apart; the skeleton left (every quoted value
    emptied to ``""``) is the same for every request a given server sends, so its parse
    plan is memoised. This runs on the inbox hot path.
    """
    if value[:10].lower() == "signature ":  # the Authorization form
        value = value[10:]
    parts = value.split('"')
    if len(parts) % 2 == 0:
        raise SignatureError("malformed Signature header: unbalanced quotes")
    quoted = parts[1::2]
    params = {
        key: quoted[slot] if slot >= 0 else number
        for key, slot, number in _plan('""'.join(parts[0::2]))
    }
    if not params.get("keyid") or not params.get("signature"):
        raise SignatureError("Signature header lacks keyId or signature")
    return params


@lru_cache(maxsize=512)
def _plan(skeleton: str) -> tuple[tuple[str, int, str], ...]:
    """(lower-case name, index of its quoted value or -1, unquoted number) per parameter."""
    plan: list[tuple[str, int, str]] = []
    slot = 0
    for item in skeleton.split(","):
        name, equals, raw = item.partition("=")
        name, raw = name.strip(" \t"), raw.strip(" \t")
        if not equals:
            if name:
                raise SignatureError("malformed Signature header: expected name=value")
            continue
        if not name.isascii() or not name.isalpha():
            raise SignatureError("malformed Signature header: bad parameter name")
        if raw == '""':
            plan.append((name.lower(), slot, ""))
            slot += 1
        elif raw and not raw.strip("0123456789.") and raw.count(".") <= 1:
            plan.append((name.lower(), -1, raw))
        else:
            raise SignatureError("malformed Signature header: bad parameter value")
    if len({key for key, _, _ in plan}) != len(plan):
        raise SignatureError("the Signature header repeats a parameter")
    return tuple(plan)


@lru_cache(maxsize=256)
def _covered(names: str, method: str) -> tuple[str, ...]:
    """The covered header names, once the coverage rules hold (memoised: a server sends
    the same ``headers`` parameter every time)."""
    signed = tuple(names.lower().split())
    if not signed:
        raise SignatureError("the signature covers no headers")
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("the signature must cover date or (created)")
    if method in ("GET", "HEAD") and "host" not in signed:
        raise SignatureError("a GET signature must cover host")
    if method in BODY_METHODS:
        if "(request-target)" not in signed:
            raise SignatureError(f"a {method} signature must cover (request-target)")
        if "digest" not in signed and "content-digest" not in signed:
            raise SignatureError(f"a {method} signature must cover digest")
    return signed


def _number(params: dict[str, str], name: str) -> float:
    try:
        return float(params[name])
    except (KeyError, ValueError) as exc:
        raise SignatureError(f"signature parameter {name} is missing or not a number") from exc


def prepare_cavage(request: Received) -> Prepared:
    """Everything but the key: parse, coverage, time window, digest, signing string.

    The pseudo-headers are added to ``request.headers`` (a lower-cased copy).
    """
    headers, now = request.headers, request.now
    raw = headers.get("signature") or headers.get("authorization", "")
    params = parse_signature_header(raw)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    signed = _covered(params.get("headers", "date"), request.method)
    if "(created)" in signed or "created" in params:
        check_time_window("created", _number(params, "created"), now, request.max_skew)
    if ("(expires)" in signed or "expires" in params) and _number(params, "expires") < now:
        raise SignatureError("the signature has expired")
    check_covered(request, signed)
    # ``headers`` is our own lower-cased copy: the pseudo-headers join it (real header
    # names cannot contain parentheses), so the signing string is one comprehension.
    headers["(request-target)"] = f"{request.method.lower()} {request.target}"
    for pseudo in ("created", "expires"):
        if pseudo in params:
            headers[f"({pseudo})"] = params[pseudo]
    try:
        text = "\n".join([f"{name}: {headers[name]}" for name in signed])
    except KeyError as exc:
        raise SignatureError(f"signed header {exc.args[0]!r} is missing from the request") from exc
    try:
        signature = binascii.a2b_base64(params["signature"], strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not valid base64") from exc
    return Prepared(
        "cavage",
        params["keyid"],
        None if algorithm == "hs2019" else algorithm,
        encode_base(text),
        signature,
    )
