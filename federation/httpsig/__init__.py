"""HTTP Signatures: signing outgoing requests and verifying incoming ones.

Outgoing: :func:`sign_request`, draft-cavage as Mastodon sends it (the default) or RFC 9421
(``scheme="rfc9421"``). Incoming: :func:`verify_request` accepts both schemes with
Mastodon's coverage and clock rules, resolving keys through a :class:`KeyResolver`
(:class:`CachingKeyResolver` over a :class:`KeyCache`); :func:`check_signer_is_actor` ties
the signature to the activity.
"""

from __future__ import annotations

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
