"""HTTP Signatures: signing outgoing requests and verifying incoming ones.

Outgoing: :func:`sign_request`, draft-cavage as Mastodon sends it (the default) or RFC 9421
(``scheme="rfc9421"``). Incoming: :func:`verify_request` accepts both schemes with
Mastodon's coverage and clock rules, resolving keys through a :class:`KeyResolver`
(:class:`CachingKeyResolver` over a :class:`KeyCache`); :func:`check_signer_is_actor` ties
the signature to the activity.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from federation.httpsig.cavage import parse_signature_header
    from federation.httpsig.common import (
        PublicKeyInfo,
        VerifiedSignature,
        http_date,
        parse_http_date,
    )
    from federation.httpsig.digest import (
        content_digest_header,
        digest_header,
        verify_content_digest,
        verify_digest,
    )
    from federation.httpsig.keystore import (
        CachedKey,
        CachingKeyResolver,
        FetchDocument,
        InMemoryKeyCache,
        KeyCache,
        KeyFetchBusy,
        KeyFetchLimits,
        KeyResolver,
        extract_public_key,
    )
    from federation.httpsig.rfc9421 import parse_signature_input, parse_signatures
    from federation.httpsig.sign import sign_request
    from federation.httpsig.verify import (
        DEFAULT_MAX_SKEW,
        check_activity_origin,
        check_signer_is_actor,
        prepare_request,
        verify_request,
    )
    from federation.httpsig.web import (
        SIGNATURE_KEY,
        read_limited_body,
        require_signed_get,
        secure_mode_middleware,
        verify_aiohttp_request,
    )

# Each name and the module it lives in: a submodule (say ``common``, for its ``Scheme``) is
# imported without the others (``web`` loads aiohttp), the names here only when asked for.
_HOMES = {
    "parse_signature_header": "cavage",
    "PublicKeyInfo": "common",
    "VerifiedSignature": "common",
    "http_date": "common",
    "parse_http_date": "common",
    "content_digest_header": "digest",
    "digest_header": "digest",
    "verify_content_digest": "digest",
    "verify_digest": "digest",
    "CachedKey": "keystore",
    "CachingKeyResolver": "keystore",
    "FetchDocument": "keystore",
    "InMemoryKeyCache": "keystore",
    "KeyCache": "keystore",
    "KeyFetchBusy": "keystore",
    "KeyFetchLimits": "keystore",
    "KeyResolver": "keystore",
    "extract_public_key": "keystore",
    "parse_signature_input": "rfc9421",
    "parse_signatures": "rfc9421",
    "sign_request": "sign",
    "DEFAULT_MAX_SKEW": "verify",
    "check_activity_origin": "verify",
    "check_signer_is_actor": "verify",
    "prepare_request": "verify",
    "verify_request": "verify",
    "SIGNATURE_KEY": "web",
    "read_limited_body": "web",
    "require_signed_get": "web",
    "secure_mode_middleware": "web",
    "verify_aiohttp_request": "web",
}

__all__ = [
    "DEFAULT_MAX_SKEW",
    "SIGNATURE_KEY",
    "CachedKey",
    "CachingKeyResolver",
    "FetchDocument",
    "InMemoryKeyCache",
    "KeyCache",
    "KeyFetchBusy",
    "KeyFetchLimits",
    "KeyResolver",
    "PublicKeyInfo",
    "VerifiedSignature",
    "check_activity_origin",
    "check_signer_is_actor",
    "content_digest_header",
    "digest_header",
    "extract_public_key",
    "http_date",
    "parse_http_date",
    "parse_signature_header",
    "parse_signature_input",
    "parse_signatures",
    "prepare_request",
    "read_limited_body",
    "require_signed_get",
    "secure_mode_middleware",
    "sign_request",
    "verify_aiohttp_request",
    "verify_content_digest",
    "verify_digest",
    "verify_request",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{home}")
    return getattr(module, name)
