"""Where a URL lives, the one place copub reads it: its origin (scheme, host, port), the
origin a browser sends in ``Origin``, and the host a delivery counts against.

Two documents are from the same server when their ids have the same origin (the rule
FEP-fe34 states and Mastodon applies): :func:`same_origin`. Only http(s) URLs with a host
have one; anything else has none and matches nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HOST = 255  # longer is no DNS name (253 at most) nor an address


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower case, the port always given; None when
    it has none (another scheme, no host, a port out of range)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def origin_text(url: str) -> str:
    """``scheme://host:port`` of an http(s) URL (the port always given), else ``url``."""
    origin = origin_of(url)
    return f"{origin[0]}://{origin[1]}:{origin[2]}" if origin is not None else url


def same_origin(url: str, other: str) -> bool:
    """Whether both are http(s) URLs of the same origin."""
    origin = origin_of(url)
    return origin is not None and origin == origin_of(other)


def authority(scheme: str, host: str, port: int | None) -> str:
    """``host[:port]`` as a Host header and an Origin write it: an IPv6 address in
    brackets, the scheme's default port left out."""
    name = f"[{host}]" if ":" in host else host
    return name if port is None or DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"


def web_origin(url: str) -> str | None:
    """The origin of an http(s) URL as browsers serialise it (``Origin``, WebAuthn):
    ``scheme://host[:port]``, lower case, the default port left out; else None."""
    origin = origin_of(url)
    if origin is None:
        return None
    scheme, host, port = origin
    return f"{scheme}://{authority(scheme, host, port)}"


def host_of(url: str) -> str | None:
    """``host[:port]`` of an http(s) URL as written there (without user info), lower case:
    the unit per-host delivery limits count and domain blocks name; else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.netloc.rpartition("@")[2].lower()
    if parts.scheme.lower() not in DEFAULT_PORTS or not host or len(host) > MAX_HOST:
        return None
    return host
