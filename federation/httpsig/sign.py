"""Signing an outgoing request: one entry for both schemes, as ``verify_request`` checks both."""

from __future__ import annotations

from collections.abc import Mapping

from federation.httpsig.cavage import sign_cavage
from federation.httpsig.knock import Scheme
from federation.httpsig.messages import outgoing
from federation.httpsig.rfc9421 import sign_rfc9421
from federation.keys import Signer


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    signer: Signer,
    *,
    now: float | None = None,
    scheme: Scheme = "cavage",
    label: str = "sig1",
) -> dict[str, str]:
    """The full header set of a signed request: ``headers`` plus Host, Date, with a body its
    Content-Type (``application/activity+json`` unless given) and digest, and the signature.

    ``scheme``: ``"cavage"`` (draft-cavage-http-signatures-12, as Mastodon signs: what every
    server we federate with checks) or ``"rfc9421"`` (RFC 9421, under ``label``).
    """
    request = outgoing(method, url, headers, body, now)
    if scheme == "rfc9421":
        return sign_rfc9421(request, signer, label=label)
    return sign_cavage(request, signer)
