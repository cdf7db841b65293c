"""Body digests: the ``Digest`` header (RFC 3230) and ``Content-Digest`` (RFC 9530)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

from federation.errors import SignatureError
from federation.httpsig.structured import Item, StructuredFieldError, parse_dictionary

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}


def digest_header(body: bytes) -> str:
    """``Digest`` value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """``Content-Digest`` value for ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def verify_digest(value: str, body: bytes) -> None:
    """Check a ``Digest`` header against the raw body (algorithm names are case-insensitive).

    Every supported algorithm offered must match; at least one must be supported.
    """
    if value[:8].upper() == "SHA-256=" and "," not in value:  # what everyone sends
        try:
            theirs = binascii.a2b_base64(value[8:].strip(), strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("Digest value is not valid base64") from exc
        if not hmac.compare_digest(theirs, hashlib.sha256(body).digest()):
            raise SignatureError("Digest does not match the request body")
        return
    checked = False
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        hash_fn = _HASHES.get(name.strip().lower())
        if not sep or hash_fn is None:
            continue
        try:
            expected = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("Digest value is not valid base64") from exc
        if not hmac.compare_digest(expected, hash_fn(body).digest()):
            raise SignatureError("Digest does not match the request body")
        checked = True
    if not checked:
        raise SignatureError("Digest offers no supported algorithm (SHA-256, SHA-512)")


def verify_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 ``Content-Digest`` (``sha-256=:...:``) against the raw body."""
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as exc:
        raise SignatureError(f"malformed Content-Digest: {exc}") from exc
    checked = False
    for name, member in members.items():
        hash_fn = _HASHES.get(name)
        if hash_fn is None:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"Content-Digest {name} is not a byte sequence")
        if not hmac.compare_digest(member.value, hash_fn(body).digest()):
            raise SignatureError("Content-Digest does not match the request body")
        checked = True
    if not checked:
        raise SignatureError("Content-Digest offers no supported algorithm (sha-256, sha-512)")
