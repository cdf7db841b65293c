"""Which signature scheme each peer accepts: the memory behind "double-knocking".

Servers check either draft-cavage signatures (what Mastodon sent for years and every
server verifies) or RFC 9421 ones, and some only one of them. copub signs a request to an
origin with the scheme remembered for it, else with the first knock
(``[federation] signature_scheme``). When the peer answers **401** the request is signed
again with the other scheme and sent once more; if that one gets past the signature check,
its scheme is remembered for the origin. Fedify knocks RFC 9421 first, Mastodon 4.5
draft-cavage first.

Only 401 triggers the second knock. It is the status for "I could not authenticate this
request" (RFC 9110 15.5.2), and what Mastodon, Fedify, GoToSocial and copub answer to a
signature they cannot parse or verify. A 403 says the signer was recognised and refused
(a block, a suspended domain, an activity from another origin): another format cannot
change that, and knocking again on every refusal would double the traffic to every server
that blocks us. A 400 is about the activity, not the signature.

Only origins whose accepted scheme differs from the first knock take memory, at most
``max_origins`` of them (the least recently used are forgotten first; a forgotten origin
costs one extra request the next time).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, Literal

# Defined here, with no cryptography around it: settings name a scheme, and a command that
# signs nothing (copub publish) loads only this module of federation.httpsig
Scheme = Literal["cavage", "rfc9421"]

SCHEMES: Final[tuple[Scheme, ...]] = ("cavage", "rfc9421")
REFUSED_SIGNATURE: Final = 401


def as_scheme(value: str) -> Scheme:
    """``value`` as a :data:`Scheme`; ValueError when it names none."""
    for scheme in SCHEMES:
        if value == scheme:
            return scheme
    raise ValueError(f"unknown signature scheme {value!r} (expected cavage or rfc9421)")


def other_scheme(scheme: Scheme) -> Scheme:
    return "rfc9421" if scheme == "cavage" else "cavage"


def passed_signature_check(status: int) -> bool:
    """Whether an answer shows the peer took the signature: anything but a 401, and not a
    server error (a 5xx may come before any check)."""
    return status != REFUSED_SIGNATURE and status < 500


class SchemeMemory:
    """The scheme to sign with for each origin (``scheme://host:port``), bounded LRU."""

    def __init__(self, first_knock: Scheme = "cavage", max_origins: int = 10_000) -> None:
        if max_origins < 1:
            raise ValueError("max_origins must be at least 1")
        self.first_knock: Scheme = first_knock
        self._max = max_origins
        self._accepted: OrderedDict[str, Scheme] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        return len(self._accepted)

    def scheme_for(self, origin: str) -> Scheme:
        """The scheme to knock with first at ``origin``."""
        scheme = self._accepted.get(origin)
        if scheme is None:
            return self.first_knock
        self._accepted.move_to_end(origin)
        return scheme

    def accepted(self, origin: str, scheme: Scheme) -> None:
        """``origin`` took a request signed with ``scheme``: knock with it from now on."""
        if scheme == self.first_knock:
            self._accepted.pop(origin, None)
            return
        self._accepted[origin] = scheme
        self._accepted.move_to_end(origin)
        while len(self._accepted) > self._max:
            self._accepted.popitem(last=False)
