"""WebFinger (RFC 7033) documents and resource parsing, server side."""

from __future__ import annotations

from urllib.parse import unquote

from federation.errors import BadRequest
from federation.vocab import AS2_MEDIA_TYPE, JSON

PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


def parse_acct(resource: str) -> tuple[str, str]:
    """``acct:user@host`` (or ``user@host``) -> (user, host); BadRequest when malformed."""
    value = unquote(resource.strip())
    if value.startswith("acct:"):
        value = value[5:]
    value = value.lstrip("@")
    user, sep, host = value.rpartition("@")
    if not sep or not user or not host or "@" in user or "/" in host or " " in value:
        raise BadRequest(f"malformed resource {resource!r}: expected acct:name@host")
    return user, host.lower()


def jrd(
    *, subject: str, aliases: list[str], actor_id: str, profile_url: str, subscribe: str
) -> JSON:
    return {
        "subject": subject,
        "aliases": aliases,
        "links": [
            {"rel": "self", "type": AS2_MEDIA_TYPE, "href": actor_id},
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
            {"rel": SUBSCRIBE_REL, "template": subscribe},
        ],
    }
