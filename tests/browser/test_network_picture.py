"""The network picture in Chromium: drawn with every community and organization named, on
a phone as on a desktop, with the lists beside it for screen readers.

``COPUB_SCREENSHOTS=1`` keeps its screenshots in docs/network/ (the README shows them)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser.conftest import BROWSER_LOOP, PHONE, PageOpener, Site
from tests.pages.network_builders import Linked, add_network

pytestmark = BROWSER_LOOP
ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1100, "height": 900}
CLINIC = "https://clinic.example/c/nightshift"
LEMMY = "https://lemmy.example/c/nursing"
WARDS = "https://regional-care.example/c/wards"
PHARMACY = "https://lemmy.example/c/pharmacy"
PEOPLE = {
    "https://social.example/users/ines": ("Inês Moreau", [CLINIC]),
    "https://mastodon.example/users/tom": ("Tom Okafor", [CLINIC, LEMMY]),
    "https://lemmy.example/u/sam": ("Sam Lee", [LEMMY]),
}


async def _network(site: Site) -> None:
    await add_network(
        site.copub.sessions, site.community,
        [Linked(CLINIC, "Night shift (clinic)", following=[WARDS]),
         Linked(LEMMY, "Nursing", following=[PHARMACY], incoming=True)],
        brokers={person: places for person, (_name, places) in PEOPLE.items()},
        names={person: name for person, (name, _places) in PEOPLE.items()},
    )  # fmt: skip


async def test_the_network_picture(site: Site, open_page: PageOpener, tmp_path: Path) -> None:
    # Given a community linked with two others, theirs, and three people between them
    await _network(site)
    shots = ROOT / "docs" / "network" if os.environ.get("COPUB_SCREENSHOTS") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    opened = await open_page(viewport=DESKTOP)
    page = opened.page
    await page.goto(site.copub.urls.community_network(site.community.slug))
    # Then the picture is drawn, named for screen readers
    picture = page.get_by_role("img", name=f"Network of {site.community.name}")
    await picture.wait_for()
    box = await picture.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 200
    # And every community and organization is labelled in it, and the people between
    labels = await page.locator("svg text").all_text_contents()
    host = site.copub.urls.domain
    for label in (site.community.name, "Night shift (clinic)", "Nursing", "wards", "pharmacy",
                  host, "clinic.example", "lemmy.example", "regional-care.example",
                  "Inês Moreau", "Tom Okafor", "Sam Lee"):  # fmt: skip
        assert label in labels, (label, labels)
    # And the lists say the same in words
    lists = page.get_by_role("region", name="Organizations")
    for org in ("clinic.example", "lemmy.example", "regional-care.example"):
        assert await lists.get_by_text(org, exact=True).count() == 1
    brokers = page.get_by_role("region", name="People in more than one community")
    assert await brokers.get_by_role("listitem").count() == 3
    await page.screenshot(path=str(shots / "network.png"), full_page=False)
    # When it is opened on a phone, it fits: scaled, or scrolled inside its frame alone
    await page.set_viewport_size(PHONE)
    frame = page.locator("figure.network-picture")
    box = await frame.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert await picture.is_visible()
    await frame.screenshot(path=str(shots / "network-360.png"))
    opened.assert_no_errors()
