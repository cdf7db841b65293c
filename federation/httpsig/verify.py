"""Checking incoming signed requests (cavage and RFC 9421) and who signed them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from federation.errors import BadRequest, FederationError, Forbidden, SignatureError
from federation.httpsig.cavage import prepare_cavage
from federation.httpsig.common import (
    Prepared,
    PublicKeyInfo,
    VerifiedSignature,
    default_algorithm,
    lower_headers,
    verify_bytes,
)
from federation.httpsig.keystore import KeyFetchBusy, KeyResolver
from federation.httpsig.messages import Received
from federation.httpsig.rfc9421 import prepare_rfc9421
from federation.origins import same_origin
from federation.vocab import actor_of, get_id

log = logging.getLogger(__name__)

DEFAULT_MAX_SKEW = 3600.0


def prepare_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    scheme: str = "https",
    now: float | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
) -> Prepared:
    """All checks that need no key. RFC 9421 wins when ``Signature-Input`` is present."""
    lowered = lower_headers(headers)
    current = time.time() if now is None else now
    request = Received(
        method.upper(), scheme.lower(), path_with_query, lowered, body, current, max_skew
    )
    if "signature-input" in lowered:
        return prepare_rfc9421(request)
    if "signature" in lowered or lowered.get("authorization", "")[:10].lower() == "signature ":
        return prepare_cavage(request)
    raise SignatureError("the request is not signed")


async def verify_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes,
    resolver: KeyResolver,
    *,
    scheme: str = "https",
    now: float | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
) -> VerifiedSignature:
    """Verify a signed request or raise SignatureError (401) with the reason.

    ``path_with_query`` is the raw request target; ``headers`` may be a multidict (repeated
    fields are joined). ``scheme`` is the public scheme, for ``@target-uri``. A signature that
    fails with a cached key is tried once more with a refreshed key (key rotation).
    """
    prepared = prepare_request(
        method, path_with_query, headers, body, scheme=scheme, now=now, max_skew=max_skew
    )
    try:  # inlined _resolve(): this is the hot path
        info = await resolver.resolve(prepared.key_id, refresh=False)
    except (SignatureError, KeyFetchBusy):
        raise
    except FederationError as exc:
        raise _key_error(prepared.key_id, exc) from exc
    algorithm = _check(prepared, info)
    if algorithm is None:
        fresh = await _resolve(resolver, prepared.key_id, refresh=True)
        if fresh.public_key_pem != info.public_key_pem:
            info = fresh
            algorithm = _check(prepared, info)
    if algorithm is None:
        raise SignatureError(f"the signature does not verify with key {prepared.key_id}")
    return VerifiedSignature(prepared.key_id, info.owner, prepared.scheme, algorithm)


def _check(prepared: Prepared, info: PublicKeyInfo) -> str | None:
    """The algorithm used when the signature verifies with ``info``, else None."""
    try:
        key = info.public_key
    except ValueError as exc:
        raise SignatureError(f"key {info.key_id} is not a usable public key") from exc
    algorithm = prepared.algorithm or default_algorithm(key)
    if verify_bytes(key, algorithm, prepared.data, prepared.signature):
        return algorithm
    return None


async def _resolve(resolver: KeyResolver, key_id: str, *, refresh: bool) -> PublicKeyInfo:
    try:
        return await resolver.resolve(key_id, refresh=refresh)
    except (SignatureError, KeyFetchBusy):
        raise
    except FederationError as exc:
        raise _key_error(key_id, exc) from exc


def _key_error(key_id: str, exc: FederationError) -> SignatureError:
    log.info("could not obtain key %s: %s", key_id, exc.reason)
    return SignatureError(f"could not obtain key {key_id}: {exc.reason}")


def check_signer_is_actor(verified: VerifiedSignature, activity: Mapping[str, Any]) -> None:
    """Refuse (401) an activity whose ``actor`` is not the owner of the key that signed it.

    Another key of the actor's server is not enough (FEP-fe34 would allow it): no server we
    federate with signs for its other actors, and Mastodon refuses it too.
    """
    actor = actor_of(activity)
    if actor is None:
        raise BadRequest("the activity has no actor")
    if actor != verified.owner:
        raise SignatureError(f"the request was signed by {verified.owner}, not by actor {actor}")


def check_activity_origin(verified: VerifiedSignature, activity: Mapping[str, Any]) -> None:
    """Refuse (403) an activity whose ``id`` is not on the origin of its signer.

    Ids are often predictable (Mastodon's account Delete is ``…/users/x#delete``): a server
    that could send activities under another's ids could make the real ones duplicates.
    Activities of other servers travel embedded (FEP-1b12 Announces) and are verified at
    their own origin where they are used.
    """
    activity_id = get_id(activity.get("id"))
    if activity_id is None or not same_origin(activity_id, verified.owner):
        raise Forbidden(
            f"the activity id {activity_id} is not on the origin of its signer {verified.owner}"
        )
