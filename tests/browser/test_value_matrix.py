"""The value-creation matrix in Chromium: the community page's cycles by stories and
indicators, readable on a desktop and on a 360 px phone (no sideways scrolling), and the
whole matrix on its own page.

``COPUB_SCREENSHOTS=1`` keeps its screenshots in docs/value/ (the README shows them)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser.conftest import BROWSER_LOOP, PHONE, PageOpener, Site

pytestmark = BROWSER_LOOP
ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1100, "height": 900}
STORIES = [
    ("immediate", "Newcomers met the core at the case review", "Four newcomers asked questions",
     "new night nurses"),
    ("potential", "A shared checklist for insulin", "We wrote down what each ward checks",
     "the community"),
    ("applied", "Ward 3 reads every dose aloud", "The double check is done at every round",
     "night nurses on ward 3"),
    ("realized", "No insulin errors in November", "Errors went from three a month to none",
     "patients of ward 3"),
]  # fmt: skip
INDICATORS = [
    ("immediate", "nurses at the monthly case review", "18", "2026-11-17"),
    ("applied", "wards adopted the double check", "12", "2026-11-30"),
    ("realized", "insulin errors reported in November", "0", "2026-11-30"),
    ("reframing", "The hospital now counts near misses, not only errors", "", "2026-12-01"),
]


async def _tell(site: Site) -> None:
    slug = site.community.slug
    for cycle, title, changed, for_whom in STORIES:
        await site.copub.cli(
            "publish", slug, "story", "--title", title, "--content", "What happened.",
            "--cycle", cycle, "--changed", changed, "--for", for_whom, "--about", site.practice,
        )  # fmt: skip
    for cycle, text, number, on in INDICATORS:
        extra = ["--number", number] if number else []
        await site.copub.cli("value", "add", slug, "--cycle", cycle, "--text", text,
                             "--date", on, *extra)  # fmt: skip


async def test_the_value_matrix(site: Site, open_page: PageOpener, tmp_path: Path) -> None:
    # Given stories of four cycles of value and four indicators
    await _tell(site)
    shots = ROOT / "docs" / "value" if os.environ.get("COPUB_SCREENSHOTS") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    opened = await open_page(viewport=DESKTOP)
    page = opened.page
    await page.goto(site.community_url)
    # Then the community page shows the matrix: a row per cycle, stories and indicators
    matrix = page.get_by_role("table", name="Value-creation matrix: the latest of each cycle")
    await matrix.wait_for()
    rows = matrix.locator("tbody tr")
    assert await rows.count() == 5
    applied = page.locator("#value-applied")
    assert await applied.get_by_role("link", name="Ward 3 reads every dose aloud").count() == 1
    assert "12 wards adopted the double check" in await applied.inner_text()
    assert "No stories yet" in await page.locator("#value-reframing").inner_text()
    section = page.locator("section", has=page.locator("#value-h"))
    await section.screenshot(path=str(shots / "matrix.png"))
    # When it is opened on a phone, each cycle stacks, and nothing scrolls sideways
    await page.set_viewport_size(PHONE)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    box = await matrix.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    await section.screenshot(path=str(shots / "matrix-360.png"))
    # And the whole matrix has a page of its own
    await page.goto(site.copub.urls.community_value(site.community.slug))
    whole = page.get_by_role("table", name=f"Value-creation matrix of {site.community.name}")
    await whole.wait_for()
    assert "No insulin errors in November" in await whole.inner_text()
    opened.assert_no_errors()
