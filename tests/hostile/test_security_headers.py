"""Attack class: a browser turned against copub's own answers.

A hostile page frames a community page (clickjacking), a browser sniffs a JSON document or
a feed as HTML, markup that slipped through runs as script, a form is pointed elsewhere by
an injected ``<base>``, or a scanner reads the software versions from the ``Server``
header. Every answer of every route (and the router's own 404 and 405 answers, static files
and error pages) carries ``X-Content-Type-Options: nosniff``, ``Server: copub``, a
``Content-Security-Policy`` with ``default-src 'none'`` and ``frame-ancestors 'none'``,
``X-Frame-Options: DENY`` and a ``Referrer-Policy``; HTML pages carry the page policy
(scripts and styles from copub's own files only, nothing inline) and contain nothing that
policy would block. The browser tests (tests/browser/) show the pages work under it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors import publishing
from actors.accounts import invites
from actors.content import StoryDraft
from actors.events import EventDraft
from actors.store.models import ActivityRow
from actors.web.keys import SESSIONS, SETTINGS, URLS
from adapters.discourse.webhooks import ROUTE as DISCOURSE_WEBHOOK
from tests import factories
from tests.conftest import ClientFactory
from tests.discourse.harness import forum_table, prepare_forum
from tests.fakes.discourse import FakeDiscourse
from tests.flows.copub import sqlite_only
from tests.pages.builders import actor_url, add_post

pytestmark = sqlite_only

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
AS2 = "application/activity+json"
ACCEPTS = (BROWSER, AS2, "*/*")
SUBSCRIBE = "https://social.example/authorize_interaction?uri={uri}"
QUERIES = {
    "/.well-known/webfinger": {"resource": "acct:nightshift@cop.test"},
    "/authorize_interaction": {"uri": "https://social.example/users/alice"},
    # the pages an email's links open (a token of the right shape shows the page)
    "/c/nightshift/digest/confirm": {"token": "1." + "a" * 43},
    "/c/nightshift/digest/unsubscribe": {"token": "1." + "a" * 40},
}


def query_of(path: str, samples: dict[str, str]) -> dict[str, str]:
    if path.endswith("/thread"):  # a member's post's conversation
        return {"post": samples["post"]}
    return QUERIES.get(path, {})


async def subscribe_lookup(_account: str) -> str:
    return SUBSCRIBE


@pytest.fixture
async def forum() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as fake:
        yield fake


@pytest.fixture
async def client(
    make_client: ClientFactory, database_url: str, forum: FakeDiscourse
) -> TestClient[Any, Any]:
    """The app with every optional part on: the Discourse adapter adds its webhook route."""
    category, _nora = prepare_forum(forum)
    settings = factories.make_settings(
        database_url, adapters=["adapters.discourse"], discourse=[forum_table(forum, category)]
    )
    return await make_client(settings, subscribe_lookup=subscribe_lookup)


@pytest.fixture
async def samples(client: TestClient[Any, Any]) -> dict[str, str]:
    """A value for each variable of the routes, naming things that exist."""
    sessions, urls = client.app[SESSIONS], client.app[URLS]
    community = await factories.create_community(sessions)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    async with sessions.begin() as session:
        await publishing.publish_story(
            session, urls, community, StoryDraft(title="A night", markdown="It was long.")
        )
        event = await publishing.publish_event(
            session, urls, community,
            EventDraft(title="Case review", markdown="Bring cases.", start=start,
                       timezone="Europe/Berlin", end=start + timedelta(hours=1)),
        )  # fmt: skip
        setup = await invites.create_admin(session, "ada", valid=timedelta(days=7), now=start)
        invitation = await invites.coordinator_invite(
            session, community.id, valid=timedelta(days=7), now=start
        )
    async with sessions() as session:
        activity = (await session.scalars(select(ActivityRow.ap_id).limit(1))).one()
    post = await add_post(sessions, community, actor_url("alice"))
    return {
        "post": post.ap_id,
        "token": setup.token,
        "invitation": invitation.token,
        "id": "1",
        "account": "1",
        "slug": community.slug,
        "oid": event.ap_id.rstrip("/").rsplit("/", 1)[1],
        "item": event.ap_id.rstrip("/").rsplit("/", 1)[1],
        "kind": "story",
        "aid": activity.rstrip("/").rsplit("/", 1)[1],
        "tag": "nights",
        "indicator": "1",
        "filename": "icon.png",
    }


def path_of(resource: web.AbstractResource, samples: dict[str, str]) -> str:
    info = resource.get_info()
    if "directory" in info:  # static files
        return str(resource.url_for(filename=samples["filename"]))
    if "formatter" in info:  # a KeyError here: give the new route's variable a sample
        return str(resource.url_for(**samples))
    return str(resource.url_for())


def directives(response: aiohttp.ClientResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name.lower()] = values
    return found


class InlineCode(HTMLParser):
    """What the page policy would block: inline script, inline style, event handlers."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k.lower() for k, _ in attrs}
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.found.append("a <script> without src")
        if tag == "style":
            self.found.append("a <style> element")
        self.found += [f"<{tag} {n}=...>" for n in names if n == "style" or n.startswith("on")]
        if dict(attrs).get("href", "").lower().startswith("javascript:"):  # type: ignore[union-attr]
            self.found.append(f"<{tag} href=javascript:...>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script text")


async def assert_hardened(response: aiohttp.ClientResponse, what: str) -> None:
    headers = response.headers
    server = headers.get("Server", "")
    assert "python" not in server.lower(), (what, server)
    assert "aiohttp" not in server.lower(), (what, server)
    assert server == "copub", (what, server)
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    console = response.url.path == "/console" or response.url.path.startswith("/console/")
    # the console keeps its Referer to itself, so that browsers send Origin with its POSTs
    expected = "same-origin" if console else "no-referrer"
    assert headers.get("Referrer-Policy") == expected, what
    policy = directives(response)
    assert policy.get("default-src") == ["'none'"], (what, policy)
    assert policy.get("frame-ancestors") == ["'none'"], (what, policy)
    assert not any("unsafe" in v or v == "*" for vs in policy.values() for v in vs), policy
    if response.content_type != "text/html":
        return
    assert policy.get("base-uri") == ["'none'"], (what, policy)
    assert policy.get("script-src") == ["'self'"], (what, policy)
    assert policy.get("style-src") == ["'self'"], (what, policy)
    assert policy.get("img-src") == ["'self'"], (what, policy)
    # the follow form's 303 leads to the visitor's server, on https (copub is on https here)
    assert policy.get("form-action") == ["'self'", "https:"], (what, policy)
    if response.method != "HEAD":
        blocked = InlineCode(await response.text()).found
        assert not blocked, f"{what} has what its policy blocks: {blocked}"


async def test_every_route_answers_with_the_security_headers(
    client: TestClient[Any, Any], samples: dict[str, str]
) -> None:
    """Each route, asked for HTML, ActivityStreams JSON or anything, answers hardened; its
    GETs answer (the samples name real things), so the headers are seen on real answers."""
    seen: set[tuple[str, str]] = set()
    for route in client.app.router.routes():
        path = path_of(route.resource, samples)
        method = route.method
        for accept in ACCEPTS:
            headers = {"Accept": accept}
            if method in ("GET", "HEAD"):
                response = await client.request(
                    method, path, params=query_of(path, samples), headers=headers,
                    allow_redirects=False,
                )  # fmt: skip
                assert response.status < 400, (method, path, accept, response.status)
            else:  # the follow form answers a form; the rest are JSON APIs refusing junk
                response = await client.post(
                    path, data={"account": "alice@social.example"}, headers=headers,
                    allow_redirects=False,
                )  # fmt: skip
            await assert_hardened(response, f"{method} {path} ({accept}) -> {response.status}")
            seen.add((response.content_type, str(response.status)[0]))
            response.release()
    # the walk met pages, JSON, redirects and refusals, not one kind of answer
    assert {("text/html", "2"), ("application/activity+json", "2")} <= seen, seen
    assert any(status == "3" for _t, status in seen), seen
    assert any(status == "4" for _t, status in seen), seen
    assert DISCOURSE_WEBHOOK in {r.resource.canonical for r in client.app.router.routes()}


@pytest.mark.parametrize(
    ("method", "path", "accept", "status"),
    [
        ("GET", "/no/such/page", BROWSER, 404),
        ("GET", "/no/such/page", AS2, 404),
        ("GET", "/c/nobody", BROWSER, 404),
        ("GET", "/c/nobody", AS2, 404),
        ("GET", "/static/nope.png", BROWSER, 404),
        ("GET", "/static/../actors/web/app.py", BROWSER, 404),
        ("POST", "/", BROWSER, 405),
        ("PUT", "/c/nightshift", AS2, 405),
        ("POST", "/c/nobody/follow", BROWSER, 404),
        ("POST", "/c/nightshift/follow", BROWSER, 400),  # no account: the page, with an error
        ("POST", "/inbox", AS2, 415),  # no Content-Type: not an activity
        ("GET", "/c/nightshift/o/nothing", BROWSER, 404),
    ],
)
async def test_errors_and_router_answers_carry_the_headers(
    client: TestClient[Any, Any],
    samples: dict[str, str],
    method: str,
    path: str,
    accept: str,
    status: int,
) -> None:
    """The router's own 404 and 405, static misses, error pages and refusals are hardened
    like any page."""
    response = await client.request(method, path, headers={"Accept": accept}, data=b"")
    assert response.status == status
    await assert_hardened(response, f"{method} {path} ({accept})")
    if accept == BROWSER and method == "GET" and path != "/static/nope.png":
        assert response.content_type == "text/html"  # the error page, under the page policy


async def test_a_too_large_body_is_refused_with_the_headers(client: TestClient[Any, Any]) -> None:
    """The body-size refusal, raised while reading, is hardened too."""
    limit = client.app[SETTINGS].federation.max_body_bytes
    response = await client.post("/inbox", data=b"x" * (limit + 1), headers={"Content-Type": AS2})
    assert response.status == 413
    await assert_hardened(response, "POST /inbox (too large)")
