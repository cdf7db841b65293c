"""Fixtures for browser tests: Debian's chromium driven by Playwright, a real copub, and a
visitor's fediverse server.

- ``browser``: headless chromium (``/usr/bin/chromium``; never ``playwright install``).
  Without it (or without the ``playwright`` package) the tests skip, except under
  ``CI=true``, where they fail.
- ``site``: copub on http://127.0.0.1:PORT (SQLite) with a community, a story with a reply,
  a practice revised twice and a recurring event; ``Site`` names their URLs.
- ``visitor``: a tiny fediverse server on 127.0.0.1 that answers WebFinger with an OStatus
  subscribe template and serves the subscribe page it points to.
- ``open_page``: a page in a fresh context that records console errors, page errors and
  Content-Security-Policy violations; at teardown every copub document it loaded must
  have come with a policy and no violation may have been reported. ``page_opener(browser,
  base_url)`` does the same for a copub the test starts itself.

The browser is started once per test module (starting chromium costs about a second), so
these fixtures and the tests run in the module's event loop (``pytestmark = BROWSER_LOOP``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.community import Community
from tests import factories
from tests.flows.copub import Copub, start_copub
from tests.pages.builders import (
    EventSpec,
    Version,
    actor_url,
    add_event,
    add_follower,
    add_post,
    add_practice,
    add_remote_actor,
    add_story,
    now,
)
from tests.pg import free_port

CHROMIUM = Path("/usr/bin/chromium")
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE = {"width": 360, "height": 740}
LONG_WORD = "Supercalifragilistic" * 6  # one unbreakable word, wider than a phone


def _unavailable() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (apt-get install --no-install-recommends chromium)"
    return None


# One browser per test module, so the tests run in the module's event loop: each test
# module sets ``pytestmark = BROWSER_LOOP``.
BROWSER_LOOP = pytest.mark.asyncio(loop_scope="module")
fixture = pytest_asyncio.fixture(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need chromium in CI: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


# Each document reports the Content-Security-Policy violations it sees to the test; the
# reports' promises let ``OpenPage.settle()`` wait until the test has received them all.
REPORT_VIOLATIONS = """window.copubCspReports = [];
document.addEventListener("securitypolicyviolation", e => window.copubCspReports.push(
  window.copubCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.documentURI}${e.sample ? ": " + e.sample : ""}`)));"""


@dataclass
class OpenPage:
    """A browser page, the errors and CSP violations it reported, and the policy of each
    copub document it loaded."""

    page: Any
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    policies: dict[str, str | None] = field(default_factory=dict)  # document URL -> its CSP

    def assert_no_errors(self) -> None:
        assert not self.errors, f"the page reported errors: {self.errors}"
        self.assert_no_violations()

    def assert_no_violations(self) -> None:
        assert not self.violations, f"the page broke its security policy: {self.violations}"

    async def settle(self) -> None:
        """Wait until every violation the current document reported has reached the test."""
        await self.page.evaluate("Promise.all(window.copubCspReports || [])")


PageOpener = Callable[..., Awaitable[OpenPage]]


@fixture
async def open_page(browser: Any, site: Site) -> AsyncIterator[PageOpener]:
    """Every page opened here must load each copub document under a page policy and report
    no violation of it, whatever the test asserts itself."""
    async with page_opener(browser, site.base_url) as open_:
        yield open_


@asynccontextmanager
async def page_opener(browser: Any, base_url: str) -> AsyncIterator[PageOpener]:
    """``open_page`` for the copub at ``base_url`` (tests that start their own)."""
    contexts: list[Any] = []
    opened_pages: list[OpenPage] = []

    def record_document(opened: OpenPage, response: Any) -> None:
        request = response.request
        if request.resource_type == "document" and response.url.startswith(base_url):
            opened.policies[response.url] = response.headers.get("content-security-policy")

    async def open_(**context_options: Any) -> OpenPage:
        context = await browser.new_context(**context_options)
        contexts.append(context)
        page = await context.new_page()
        opened = OpenPage(page)
        opened_pages.append(opened)

        def report(violation: str) -> None:
            opened.violations.append(violation)

        await page.expose_function("copubCspViolation", report)
        await page.add_init_script(REPORT_VIOLATIONS)
        page.on("response", lambda response: record_document(opened, response))
        page.on(
            "console",
            lambda msg: (
                opened.errors.append(f"console {msg.type}: {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda exc: opened.errors.append(f"page error: {exc}"))
        return opened

    yield open_
    try:
        for opened in opened_pages:
            await opened.settle()
            opened.assert_no_violations()
            assert opened.policies, "the page loaded no copub document"
            for url, policy in opened.policies.items():
                assert policy is not None, (url, policy)
                assert "default-src 'none'" in policy, (url, policy)
    finally:
        for context in contexts:
            await context.close()


@dataclass
class Site:
    copub: Copub
    community: Community
    story: str
    practice: str
    event: str

    @property
    def base_url(self) -> str:
        return self.copub.base_url

    @property
    def community_url(self) -> str:
        return self.copub.urls.community(self.community.slug)

    @property
    def handle(self) -> str:
        return self.copub.urls.handle(self.community.slug)


@fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    path = tmp_path / "copub.sqlite3"
    # [email] set (to a port nobody listens on): the community page shows the digest form
    email = {"host": "127.0.0.1", "port": 9, "security": "none", "from_address": "d@cop.test"}
    copub = await start_copub(f"sqlite+aiosqlite:///{path}", tmp_path, email=email)
    try:
        db, urls = copub.sessions, copub.urls
        community = await factories.create_community(db)
        alice, bob = actor_url("alice"), actor_url("bob", "mobilizon.example")
        await add_remote_actor(db, alice, name="Alice Ångström", handle="alice@social.example")
        await add_follower(db, community, alice)
        story = await add_story(
            db, community, f"A long night & a {LONG_WORD}",
            f"We saw [a link](https://example.org/{LONG_WORD}/{LONG_WORD}).", urls=urls,
        )  # fmt: skip
        for _ in range(3):
            await add_post(db, community, alice, html=f"<p>Same here: {LONG_WORD}</p>")
        await add_post(db, community, alice, html="<p>Me too</p>", reply_to=story.ap_id)
        practice = await add_practice(
            db, community, "Double-check insulin",
            [Version("Check the dose.", status="emerging", note="First"),
             Version(f"Check the dose twice.\nAsk {LONG_WORD}.", status="emerging", note="More"),
             Version(f"Check the dose twice.\nAsk {LONG_WORD}.", status="established")],
            urls=urls,
        )  # fmt: skip
        start = now() + timedelta(days=2)
        event = await add_event(
            db, community,
            EventSpec("Monthly case review", start, start + timedelta(hours=1), "Europe/Berlin",
                      "FREQ=MONTHLY", location="Ward B",
                      online_url=f"https://meet.example/{LONG_WORD}", capacity=12,
                      participants=[(alice, None), (bob, None)]),
            urls=urls,
        )  # fmt: skip
        yield Site(copub, community, story.ap_id, practice.ap_id, event.ap_id)
    finally:
        await copub.server.close()
    assert not copub.errors, f"copub answered with server errors: {copub.errors}"


@dataclass
class Visitor:
    """The visitor's own server: WebFinger and a subscribe page."""

    base_url: str
    lookups: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]


@fixture
async def visitor() -> AsyncIterator[Visitor]:
    port = free_port()
    found = Visitor(f"http://127.0.0.1:{port}")

    async def webfinger(request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        found.lookups.append(resource)
        user = resource.removeprefix("acct:").split("@", 1)[0]
        links = [
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": f"{found.base_url}/u/{user}",
            },
            {
                "rel": SUBSCRIBE_REL,
                "template": f"{found.base_url}/authorize_interaction?uri={{uri}}",
            },
        ]
        return web.json_response(
            {"subject": resource, "links": links},
            content_type="application/jrd+json",
        )

    async def subscribe(request: web.Request) -> web.Response:
        uri = request.query.get("uri", "")
        return web.Response(
            text=f'<!doctype html><html lang="en"><title>Follow</title><h1>Follow {uri}?</h1>',
            content_type="text/html",
        )

    async def no_icon(_request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/authorize_interaction", subscribe)
    app.router.add_get("/favicon.ico", no_icon)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield found
    finally:
        await server.close()
