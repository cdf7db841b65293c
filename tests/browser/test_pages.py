"""The pages in a real browser: they render, say who they are, read well on a phone, and
keep to the accessibility basics (landmarks, one h1, labels, language, contrast)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.browser.conftest import BROWSER_LOOP, PHONE, OpenPage, PageOpener, Site

pytestmark = BROWSER_LOOP

# (selector, what it is): text whose contrast against its background is checked
CONTRAST = [
    ("body", "body text"),
    ("h1", "the heading"),
    (".muted", "muted text"),
    (".meta", "metadata"),
    ("main a", "links"),
    ("button, .button", "buttons"),
    (".badge", "badges"),
    ("del, ins", "changes"),
]

AUDIT = """() => {
  const parse = c => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : [...m, 1];
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const colours = sel => [...document.querySelectorAll(sel)]
    .filter(el => el.offsetParent !== null && el.textContent.trim())
    .slice(0, 20).map(el => [parse(getComputedStyle(el).color), background(el)]);
  const headings = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")]
    .map(h => Number(h.tagName[1]));
  return {
    lang: document.documentElement.lang,
    title: document.title,
    h1: [...document.querySelectorAll("h1")].map(h => h.textContent.trim()),
    headings,
    landmarks: ["header", "main", "footer"].filter(t => document.querySelector(t)),
    unlabelled: [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter(el => !el.labels.length && !el.getAttribute("aria-label")).map(el => el.outerHTML),
    images_without_alt: [...document.querySelectorAll("img:not([alt])")].length,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wide: [...document.querySelectorAll("body *")]
      .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 5).map(el => el.tagName + "." + el.className),
    colours: Object.fromEntries(%s.map(s => [s, colours(s)])),
  };
}"""


def luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def audit(opened: OpenPage, url: str | None) -> dict[str, Any]:
    """What the page at ``url`` shows (None: the page open now, e.g. the answer to a form)."""
    if url is not None:
        response = await opened.page.goto(url)
        assert response is not None, url
        assert response.status == 200, url
    selectors = "[" + ",".join(f'"{s}"' for s, _ in CONTRAST) + "]"
    result: dict[str, Any] = await opened.page.evaluate(AUDIT % selectors)
    return result


def check_accessibility(found: dict[str, Any], url: str) -> None:
    assert found["lang"] == "en", url
    assert found["landmarks"] == ["header", "main", "footer"], url
    assert len(found["h1"]) == 1, (url, found["h1"])
    levels = found["headings"]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert found["unlabelled"] == [], url
    assert found["images_without_alt"] == 0
    for selector, what in CONTRAST:
        for fg, bg in found["colours"][selector]:
            ratio = contrast(fg, bg)
            assert ratio >= 4.5, f"{what} ({selector}) on {url}: contrast {ratio:.2f} < 4.5"


def pages(site: Site) -> list[tuple[str, str]]:
    """(url, the h1 the page must show)"""
    return [
        (site.community_url, "Night Shift Nursing"),
        (site.story, "A long night & a"),
        (site.practice, "Double-check insulin"),
        (site.event, "Monthly case review"),
        (site.copub.urls.community_events(site.community.slug), "Events"),
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_pages_render_accessibly_without_errors(
    site: Site, open_page: PageOpener, scheme: str
) -> None:
    opened = await open_page(color_scheme=scheme)
    for url, heading in pages(site):
        found = await audit(opened, url)
        assert found["h1"][0].startswith(heading), url
        check_accessibility(found, url)
    opened.assert_no_errors()


async def test_pages_show_what_they_are_about(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    page = opened.page
    await page.goto(site.community_url)
    people = page.locator("section[aria-labelledby=people-h]")
    assert "Alice Ångström" in await people.inner_text()
    events = page.locator("section[aria-labelledby=events-h]")
    assert "Monthly case review" in await events.inner_text()
    assert "Established practice" in await page.locator(".badge").first.inner_text()
    await page.get_by_role("link", name="Double-check insulin").click()
    await page.wait_for_url(site.practice)
    history = page.locator("section[aria-labelledby=history-h]")
    assert await history.locator("article.revision").count() == 3
    assert await history.locator("ins").first.is_visible()
    await page.goto(site.event)
    facts = await page.locator("dl.facts").inner_text()
    assert "Europe/Berlin" in facts
    assert "Ward B" in facts
    assert "2 of 12 places" in facts
    await page.goto(site.story)
    assert "Me too" in await page.locator("article.reply").inner_text()
    opened.assert_no_errors()


async def test_no_horizontal_scroll_on_a_phone(site: Site, open_page: PageOpener) -> None:
    opened = await open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    for url, _heading in pages(site):
        found = await audit(opened, url)
        assert found["overflow"] <= 0, (url, found["wide"])
    opened.assert_no_errors()


INJECT = """tag => new Promise(resolve => {
  document.addEventListener("securitypolicyviolation", e => resolve(e.effectiveDirective),
                            {once: true});
  const element = document.createElement(tag);
  element.textContent = tag === "script" ? "window.injected = true"
                                         : "body { background: rgb(1, 2, 3) }";
  document.body.append(element);
})"""


async def test_the_page_policy_blocks_and_reports_what_is_inline(
    site: Site, open_page: PageOpener
) -> None:
    """The pages run under a policy the browser enforces: script and style put inline do not
    apply, and each violation reaches the test (so the other tests' silence means something)."""
    opened = await open_page()
    page = opened.page
    await page.goto(site.community_url)
    assert await page.evaluate(INJECT, "script") == "script-src-elem"
    assert await page.evaluate(INJECT, "style") == "style-src-elem"
    assert await page.evaluate("window.injected") is None
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(1, 2, 3)"
    await opened.settle()
    assert [v.split(" at ")[0] for v in opened.violations] == [
        "script-src-elem blocked inline",
        "style-src-elem blocked inline",
    ]
    opened.violations.clear()  # seen and expected: the fixture checks for any others
