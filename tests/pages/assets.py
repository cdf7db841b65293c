"""What a page loads (not what it links to) must come from this server."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests import factories
from tests.actors.test_pages import Page

LOADING_LINKS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}


def loaded_urls(page: Page) -> list[str]:
    urls = []
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "poster", "data"):
            if name in attrs:
                urls.append(attrs[name])
        if tag == "link" and LOADING_LINKS & set(attrs.get("rel", "").split()):
            urls.append(attrs["href"])
    return urls


def assert_loads_nothing_external(page: Page, html: str) -> None:
    for url in loaded_urls(page):
        assert urlsplit(url).netloc in ("", factories.DOMAIN), url
    assert "@import" not in html
    assert "url(http" not in html.replace(" ", "")
