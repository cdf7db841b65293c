"""Cross-site request forgery: every POST to the console must come from the console's own
origin and carry the form token of the page it came from.

- **Origin.** ``Origin`` must be the console's origin (``base_url``). Where a browser
  sends ``Origin: null`` or none, ``Sec-Fetch-Site`` must say ``same-origin``, or else
  ``Referer`` must be on the origin. A request with none of the three comes from no
  browser's cross-site form (browsers send ``Origin`` with every POST) and is judged by
  its token alone.
- **Token.** A signed-in session has its own random token; a browser not signed in gets
  one in a cookie (the sign-in, setup and invitation pages). Forms carry it in the field
  ``csrf``, scripts in the header ``X-CSRF-Token``; it is compared in constant time
  (``hmac.compare_digest``), before the handler runs, so a refused request changes
  nothing.

The console's pages send ``Referrer-Policy: same-origin`` (actors/web/headers.py): with
copub's ``no-referrer`` elsewhere, browsers would send ``Origin: null`` even from the
console's own forms."""

from __future__ import annotations

import hmac

from aiohttp import web

from federation.origins import web_origin

FIELD = "csrf"
HEADER = "X-CSRF-Token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _on(url: str, origin: str) -> bool:
    """Whether ``url`` is on ``origin`` (both compared as browsers write origins)."""
    found = web_origin(url)
    return found is not None and found == web_origin(origin)


def same_origin(request: web.Request, origin: str) -> bool:
    """Whether the request comes from a page of ``origin`` (see the module's rules)."""
    given = request.headers.get("Origin")
    if given is not None and given != "null":
        return _on(given, origin)
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referer = request.headers.get("Referer")
    if referer is not None:
        return _on(referer, origin)
    return given is None


async def token_of(request: web.Request) -> str | None:
    """The token the request carries: the form's field, else the header."""
    if request.content_type in FORM_TYPES:
        form = await request.post()
        value = form.get(FIELD)
        if isinstance(value, str):
            return value
    return request.headers.get(HEADER)


def tokens_match(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
