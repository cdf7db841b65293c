"""The secrets in a subscriber's links.

- A **confirmation token** is ``<subscription id>.<random secret>``; only the secret's
  SHA-256 is stored, and it is compared in constant time. It is sent once, in the
  confirmation email, and works for ``[email] confirm_valid_days``.
- An **unsubscribe token** goes into every digest, long after the subscription was
  confirmed, so it cannot be a random secret kept only as a hash: it is an HMAC of the
  subscription (its id and address) under a key derived from the server's own private key
  (nothing stored per subscriber; a subscription deleted, its token means nothing; the
  token does not reveal the address). Checked in constant time too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

_LINK_KEY_LABEL = b"copub digest unsubscribe links v1"


@dataclass(frozen=True)
class IssuedToken:
    """A new confirmation token: ``text`` for the link, ``digest`` for the database."""

    text: str
    digest: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_confirmation(subscription_id: int) -> IssuedToken:
    secret = secrets.token_urlsafe(32)
    return IssuedToken(f"{subscription_id}.{secret}", hash_secret(secret))


def split(token: str) -> tuple[int, str] | None:
    """``(subscription id, secret)`` of a token, or None when it is not shaped like one."""
    ident, dot, secret = token.partition(".")
    if not dot or not ident.isdigit() or len(ident) > 18 or not 16 <= len(secret) <= 128:
        return None
    return int(ident), secret


def confirmation_matches(secret: str, stored_digest: str | None) -> bool:
    if not stored_digest:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_digest)


def link_key(server_private_pem: str) -> bytes:
    """The key of unsubscribe tokens, derived from the server's private key."""
    return hmac.new(server_private_pem.encode(), _LINK_KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, subscription_id: int, email: str) -> str:
    message = f"{subscription_id}\n{email.lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def unsubscribe_token(key: bytes, subscription_id: int, email: str) -> str:
    return f"{subscription_id}.{_mac(key, subscription_id, email)}"


def unsubscribe_matches(key: bytes, subscription_id: int, email: str, secret: str) -> bool:
    return hmac.compare_digest(_mac(key, subscription_id, email), secret)
