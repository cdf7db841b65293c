"""RFC 9421 HTTP Message Signatures (``Signature-Input`` / ``Signature``), requests only."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from federation.errors import SignatureError
from federation.httpsig.common import (
    BODY_METHODS,
    Prepared,
    check_time_window,
    default_algorithm,
    encode_base,
    sign_bytes,
)
from federation.httpsig.digest import content_digest_header
from federation.httpsig.messages import Outgoing, Received, check_covered
from federation.httpsig.structured import (
    InnerList,
    Item,
    Member,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_bare_item,
    serialize_inner_list,
)
from federation.keys import Signer

ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"})
_TARGETS = frozenset({"@target-uri", "@path", "@request-target"})


def sign_rfc9421(request: Outgoing, signer: Signer, *, label: str = "sig1") -> dict[str, str]:
    """``request``'s headers plus Signature-Input and Signature (RFC 9421, under ``label``)
    covering ``@method @target-uri``, and ``content-digest content-type`` (Content-Digest
    added) when there is a body (RSA: ``rsa-v1_5-sha256``)."""
    out = dict(request.headers)
    target_uri = f"{request.scheme}://{request.authority}{request.target}"
    values = {"@method": request.method, "@target-uri": target_uri}
    if request.body is not None:
        values["content-digest"] = out["Content-Digest"] = content_digest_header(request.body)
        values["content-type"] = request.header("content-type") or ""
    key = signer.private_key
    algorithm = default_algorithm(key)
    inner = InnerList(
        tuple(Item(name) for name in values),
        {"created": request.created, "keyid": signer.key_id, "alg": algorithm},
    )
    params_line = serialize_inner_list(inner)
    lines = [f'"{name}": {value}' for name, value in values.items()]
    lines.append(f'"@signature-params": {params_line}')
    signature = sign_bytes(key, "\n".join(lines).encode("utf-8"), algorithm)
    out["Signature-Input"] = f"{label}={params_line}"
    out["Signature"] = f"{label}=:{base64.b64encode(signature).decode('ascii')}:"
    return out


def parse_signature_input(value: str) -> dict[str, InnerList]:
    """Labels and their covered components + parameters; raises SignatureError."""
    members = _parse("Signature-Input", value)
    out: dict[str, InnerList] = {}
    for label, member in members.items():
        if not isinstance(member, InnerList):
            raise SignatureError(f"Signature-Input {label!r} is not an inner list")
        out[label] = member
    return out


def parse_signatures(value: str) -> dict[str, bytes]:
    """Labels and their signature bytes; raises SignatureError."""
    out: dict[str, bytes] = {}
    for label, member in _parse("Signature", value).items():
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"Signature {label!r} is not a byte sequence")
        out[label] = member.value
    return out


def _parse(name: str, value: str) -> dict[str, Member]:
    try:
        return parse_dictionary(value)
    except StructuredFieldError as exc:
        raise SignatureError(f"malformed {name} header: {exc}") from exc


def _components(inner: InnerList) -> list[str]:
    names: list[str] = []
    for item in inner.items:
        if not isinstance(item.value, str) or isinstance(item.value, Token):
            raise SignatureError("covered components must be strings")
        if item.params:
            raise SignatureError(f"component parameters are not supported ({item.value!r})")
        if item.value in names:
            raise SignatureError(f"component {item.value!r} is covered twice")
        names.append(item.value)
    return names


def _check_coverage(method: str, covered: set[str], has_created: bool) -> None:
    if not has_created and "date" not in covered:
        raise SignatureError("the signature must carry created or cover date")
    if method in ("GET", "HEAD") and not covered & {"@authority", "@target-uri", "host"}:
        raise SignatureError("a GET signature must cover @authority")
    if method in BODY_METHODS:
        if "@method" not in covered or not covered & _TARGETS:
            raise SignatureError(f"a {method} signature must cover @method and @target-uri")
        if not covered & {"content-digest", "digest"}:
            raise SignatureError(f"a {method} signature must cover content-digest")


def _int_param(params: Mapping[str, object], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SignatureError(f"signature parameter {name} must be an integer")
    return value


def component_value(
    name: str, method: str, scheme: str, target: str, headers: Mapping[str, str]
) -> str:
    """The value a covered component stands for in the signature base."""
    if name.startswith("@"):
        path, _, query = target.partition("?")
        if name == "@method":
            return method
        if name == "@request-target":
            return target
        if name == "@path":
            return path or "/"
        if name == "@query":
            return f"?{query}"
        if name == "@scheme":
            return scheme
        authority = headers.get("host", "").lower()
        if not authority:
            raise SignatureError("the Host header is missing")
        if name == "@authority":
            return authority
        if name == "@target-uri":
            return f"{scheme}://{authority}{target}"
        raise SignatureError(f"unsupported derived component {name!r}")
    value = headers.get(name.lower())
    if value is None:
        raise SignatureError(f"signed header {name!r} is missing from the request")
    return value


def signature_base(
    inner: InnerList, method: str, scheme: str, target: str, headers: Mapping[str, str]
) -> str:
    """The RFC 9421 signature base for the covered components of ``inner``."""
    lines = [
        f"{serialize_bare_item(name)}: {component_value(name, method, scheme, target, headers)}"
        for name in _components(inner)
    ]
    lines.append(f'"@signature-params": {serialize_inner_list(inner)}')
    return "\n".join(lines)


def prepare_rfc9421(request: Received) -> Prepared:
    """Everything but the key: parse, coverage, time window, digest, signature base."""
    headers, now = request.headers, request.now
    inputs = parse_signature_input(headers.get("signature-input", ""))
    signatures = parse_signatures(headers.get("signature", ""))
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("no Signature-Input label has a matching Signature")
    inner = inputs[label]
    key_id = inner.params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("the signature has no keyid")
    algorithm = inner.params.get("alg")
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    covered = set(_components(inner))
    created, expires = _int_param(inner.params, "created"), _int_param(inner.params, "expires")
    _check_coverage(request.method, covered, created is not None)
    if created is not None:
        check_time_window("created", created, now, request.max_skew)
    if expires is not None and expires < now:
        raise SignatureError("the signature has expired")
    check_covered(request, covered)
    base = signature_base(inner, request.method, request.scheme, request.target, headers)
    return Prepared(
        "rfc9421",
        key_id,
        str(algorithm) if algorithm is not None else None,
        encode_base(base),
        signatures[label],
    )
