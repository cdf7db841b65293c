"""HTML for people on the same URLs, and the remote follow form."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from actors.web.keys import SESSIONS
from federation.errors import FetchError
from tests import factories

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SUBSCRIBE = "https://social.example/authorize_interaction?uri={uri}"


class Page(HTMLParser):
    """The tags of a page with their attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        [found] = self.find(tag, **attrs)
        return found


async def get_page(client: TestClient[Any, Any], path: str, status: int = 200) -> tuple[Page, str]:
    response = await client.get(path, headers={"Accept": BROWSER})
    html = await response.text()
    assert response.status == status, html
    assert response.content_type == "text/html"
    return Page(html), html


def assert_no_external_assets(page: Page, html: str) -> None:
    for _tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if name in attrs:
                host = urlsplit(attrs[name]).netloc
                assert host in ("", factories.DOMAIN), f"{name}={attrs[name]!r}"
    assert "@import" not in html
    assert "url(http" not in html.replace(" ", "")


@pytest.fixture
async def nightshift(client: TestClient[Any, Any]) -> Any:
    return await factories.create_community(
        client.app[SESSIONS], profile_fields=(("Meets", "First Tuesday"),)
    )


async def test_browser_gets_the_community_page(
    client: TestClient[Any, Any], nightshift: Any
) -> None:
    response = await client.get("/c/nightshift", headers={"Accept": BROWSER})
    assert response.status == 200
    assert response.content_type == "text/html"
    assert "Accept" in response.headers["Vary"]
    page = Page(await response.text())
    assert "Night Shift Nursing" in page.text
    assert "Safe medication at night shifts." in page.text
    assert "We meet monthly to review cases." in page.text
    assert page.one("code", id="handle") is not None
    assert "@nightshift@cop.test" in page.text
    assert page.one("button", id="copy")["data-handle"] == "@nightshift@cop.test"
    form = page.one("form", method="post")
    assert form["action"] == "https://cop.test/c/nightshift/follow"
    assert page.one("input", name="account")["type"] == "text"
    actor_link = page.one("link", rel="alternate", type="application/activity+json")
    assert actor_link["href"] == "https://cop.test/c/nightshift"
    assert "First Tuesday" in page.text


async def test_page_escapes_what_the_coordinator_wrote(client: TestClient[Any, Any]) -> None:
    await factories.create_community(
        client.app[SESSIONS], "xss", name="<b>Bold</b>", summary="<script>alert(1)</script>"
    )
    for path in ("/c/xss", "/"):
        _page, html = await get_page(client, path)
        assert "<script>alert(1)" not in html
        assert "<b>Bold</b>" not in html
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html


async def test_closed_community_says_so(client: TestClient[Any, Any]) -> None:
    await factories.create_community(client.app[SESSIONS], closed=True)
    page, _html = await get_page(client, "/c/nightshift")
    assert "This community approves its followers." in page.text


async def test_index_lists_communities(client: TestClient[Any, Any]) -> None:
    page, _html = await get_page(client, "/")
    assert "No communities yet." in " ".join(page.text)
    await factories.create_community(client.app[SESSIONS])
    await factories.create_community(
        client.app[SESSIONS], "dayshift", name="Day Shift", closed=True
    )
    page, _html = await get_page(client, "/")
    links = [a["href"] for a in page.find("a")]
    assert "https://cop.test/c/nightshift" in links
    assert "https://cop.test/c/dayshift" in links
    assert "Night Shift Nursing" in page.text
    assert "Day Shift" in page.text
    assert "@dayshift@cop.test · closed community" in page.text
    assert "@nightshift@cop.test" in page.text
    assert "Safe medication at night shifts." in page.text


@pytest.mark.parametrize(
    "path", ["/", "/c/nightshift", "/c/nobody", "/authorize_interaction?uri=x"]
)
async def test_no_external_assets(client: TestClient[Any, Any], nightshift: Any, path: str) -> None:
    status = 404 if path == "/c/nobody" else 200
    page, html = await get_page(client, path, status=status)
    assert_no_external_assets(page, html)


async def test_unknown_community_page_is_404_html(client: TestClient[Any, Any]) -> None:
    page, _html = await get_page(client, "/c/nobody", status=404)
    assert "no community named 'nobody'" in page.text


async def test_static_icon_is_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/static/icon.png")
    assert response.status == 200
    assert (await response.read()).startswith(b"\x89PNG")


class FakeLookup:
    """A subscribe-template lookup that records what it was asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.accounts: list[str] = []
        self.error = error

    async def __call__(self, account: str) -> str:
        self.accounts.append(account)
        if self.error:
            raise self.error
        return SUBSCRIBE


async def follow(client: TestClient[Any, Any], account: str, slug: str = "nightshift") -> Any:
    return await client.post(f"/c/{slug}/follow", data={"account": account}, allow_redirects=False)


@pytest.mark.parametrize(
    "account", ["alice@social.example", "@alice@social.example", " alice@social.example "]
)
async def test_remote_follow_redirects(make_client: Any, account: str) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    await factories.create_community(client.app[SESSIONS])
    response = await follow(client, account)
    assert response.status == 303
    assert response.headers["Location"] == (
        "https://social.example/authorize_interaction?uri=nightshift@cop.test"
    )
    assert lookup.accounts == ["alice@social.example"]


@pytest.mark.parametrize("account", ["", "alice", "alice@", "@alice", "@", "@@social.example"])
async def test_remote_follow_malformed_account(make_client: Any, account: str) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    await factories.create_community(client.app[SESSIONS])
    response = await follow(client, account)
    assert response.status == 400
    assert response.content_type == "text/html"
    page = Page(await response.text())
    assert "Enter your account as you@your.server." in page.text
    assert page.one("form", method="post") is not None
    assert lookup.accounts == []


async def test_remote_follow_lookup_failure(make_client: Any) -> None:
    lookup = FakeLookup(FetchError("social.example did not answer"))
    client = await make_client(subscribe_lookup=lookup)
    await factories.create_community(client.app[SESSIONS])
    response = await follow(client, "<i>alice</i>@social.example")
    assert response.status == 400
    html = await response.text()
    page = Page(html)
    assert "Could not find <i>alice</i>@social.example: social.example did not answer" in page.text
    assert "<i>alice</i>" not in html
    assert page.one("input", name="account")["value"] == "<i>alice</i>@social.example"


async def test_remote_follow_unknown_community(make_client: Any) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    response = await follow(client, "alice@social.example", slug="nobody")
    assert response.status == 404
    assert lookup.accounts == []


async def test_authorize_interaction_escapes_uri(client: TestClient[Any, Any]) -> None:
    page, html = await get_page(client, "/authorize_interaction?uri=%3Cb%3Ex%3C/b%3E")
    assert "<b>x</b>" in page.text
    assert "<b>x</b>" not in html
