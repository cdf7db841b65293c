"""Security headers on every answer, set in one place: the ``on_response_prepare`` signal.

The signal runs for every response the app prepares (handlers, the error middleware's
pages and JSON, the router's own 404 and 405, static files, redirects), after aiohttp has
filled in its defaults, so ``Server`` is overwritten here, not merely defaulted.

- every answer: ``X-Content-Type-Options: nosniff``, ``Server: copub`` (no versions),
  ``X-Frame-Options: DENY`` (old browsers' ``frame-ancestors``), ``Referrer-Policy`` and a
  policy that lets a document load nothing and be framed by nobody (JSON, feeds and
  calendars are never meant to run or be framed; should a browser render one, nothing in it
  runs);
- HTML pages: the page policy below. Pages load their script and styles from copub's own
  ``/static/`` files: nothing inline, no remote images (the sanitizer keeps no ``<img>``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

SERVER = "copub"

# no-referrer: copub reads no Referer itself, and the links on its pages lead to members'
# servers and remote sites, which need not learn which community (a patients' group, say)
# a visitor was reading; strict-origin-when-cross-origin would still tell them the origin.
REFERRER_POLICY = "no-referrer"
# The console (/console) sends its Referer to itself only: with no-referrer, browsers send
# ``Origin: null`` with a page's own POSTs, and the console checks every POST's origin
# (actors/web/console/csrf.py). Its links to other sites still tell them nothing.
CONSOLE_REFERRER_POLICY = "same-origin"

DOCUMENT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def page_policy(base_url: str) -> str:
    """The CSP of HTML pages on the server at ``base_url``.

    ``form-action``: the follow form posts to copub, which redirects (303) to the visitor's
    own server; Chromium checks form-action on each redirect of a form submission, so the
    visitor's server must be allowed: any https origin, and http ones too when copub itself
    is served over http (development, tests)."""
    form_targets = (
        "'self' https:" if urlsplit(base_url).scheme == "https" else "'self' https: http:"
    )
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"form-action {form_targets}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


Signal = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def security_headers(base_url: str) -> Signal:
    """The ``on_response_prepare`` handler for the server at ``base_url``."""
    page = page_policy(base_url)
    # the console's scripts ask copub itself (the write form's preview, passkeys)
    console_page = page + "; connect-src 'self'"

    async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = SERVER
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        console = request.path == "/console" or request.path.startswith("/console/")
        headers["Referrer-Policy"] = CONSOLE_REFERRER_POLICY if console else REFERRER_POLICY
        html = response.content_type == "text/html"
        if html:
            headers["Content-Security-Policy"] = console_page if console else page
        else:
            headers["Content-Security-Policy"] = DOCUMENT_POLICY

    return on_response_prepare
