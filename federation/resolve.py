"""WebFinger client: from ``user@host`` to an actor URL (RFC 7033, as Mastodon uses it)."""

from __future__ import annotations

import re
from typing import Any

from yarl import URL

from federation.client import FederationClient
from federation.errors import BadRequest, FetchError
from federation.intake import safe_url
from federation.vocab import AS2_MEDIA_TYPE, JSON, LD_MEDIA_TYPE, as_list

SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
_AS2_TYPES = frozenset({AS2_MEDIA_TYPE, "application/ld+json", LD_MEDIA_TYPE})
_USER = re.compile(r"[^\s@/?#:]+")
_HOST = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?|\[[0-9a-f:.]+\](:[0-9]{1,5})?")


def parse_handle(handle: str) -> tuple[str, str]:
    """(user, host) from ``user@host``, ``@user@host`` or ``acct:user@host``.

    The host may carry a port (``localhost:8080``) for development and tests.
    """
    text = handle.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    text = text.removeprefix("@")
    user, sep, host = text.rpartition("@")
    try:
        host = host.encode("idna").decode("ascii").lower()  # IDN hosts in punycode
    except UnicodeError:
        host = ""
    if not sep or not _USER.fullmatch(user) or not _HOST.fullmatch(host):
        raise BadRequest(f"not a handle of the form user@host: {handle!r}")
    return user, host


def webfinger_url(handle: str, *, scheme: str = "https") -> str:
    user, host = parse_handle(handle)
    return str(
        URL(f"{scheme}://{host}/.well-known/webfinger").with_query(resource=f"acct:{user}@{host}")
    )


async def webfinger(client: FederationClient, handle: str, *, scheme: str | None = None) -> JSON:
    """The JRD the handle's host publishes for it."""
    url = webfinger_url(handle, scheme=scheme or client.webfinger_scheme)
    return await client.fetch_json(url)


def actor_url_from_jrd(jrd: JSON) -> str | None:
    """The ``self`` link of an ActivityStreams type (activity+json or ld+json)."""
    for link in _links(jrd):
        media = link.get("type")
        if link.get("rel") == "self" and isinstance(media, str) and media in _AS2_TYPES:
            href = safe_url(link.get("href"))
            if href is not None:
                return href
    return None


def subscribe_template(jrd: JSON) -> str | None:
    """The remote-follow template (``...?uri={uri}``) of the OStatus subscribe link."""
    for link in _links(jrd):
        template = link.get("template")
        if link.get("rel") != SUBSCRIBE_REL or not isinstance(template, str):
            continue
        if "{uri}" in template and safe_url(template.replace("{uri}", "uri")) is not None:
            return template
    return None


async def resolve_handle(
    client: FederationClient, handle: str, *, scheme: str | None = None
) -> str:
    """The actor URL for ``handle``; FetchError when the host does not name one."""
    jrd = await webfinger(client, handle, scheme=scheme)
    actor = actor_url_from_jrd(jrd)
    if actor is None:
        raise FetchError(f"WebFinger for {handle} names no ActivityPub actor")
    return actor


MAX_LINKS = 64  # links of a WebFinger answer read (Mastodon's have about five)


def _links(jrd: JSON) -> list[dict[str, Any]]:
    return [link for link in as_list(jrd.get("links"))[:MAX_LINKS] if isinstance(link, dict)]
