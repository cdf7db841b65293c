"""The console's copy buttons in a real browser, under the page policy: a new token for
the authoring API and a coordinator's invitation are shown once, and their Copy button
(a static script, hidden without it) copies the value or, where the clipboard is not
offered, selects it for the person to copy. The pages that show them are accessible and
fit a phone (the long value wraps)."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER_LOOP, PHONE, OpenPage, PageOpener, Site
from tests.browser.test_console import PASSWORD, setup_link
from tests.browser.test_pages import audit, check_accessibility

pytestmark = BROWSER_LOOP

COPIED = re.compile(r"^(Copied\.|Selected: press Ctrl\+C \(or ⌘C\) to copy\.)$")


async def signed_in(site: Site, opened: OpenPage) -> str:
    page = opened.page
    await page.goto(await setup_link(site))
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{site.base_url}/console")
    return f"{site.base_url}/console/c/{site.community.slug}"


async def copy(opened: OpenPage, value_id: str, button: str) -> str:
    """Click the Copy button of ``#value_id``; what the page then says."""
    page = opened.page
    await opened.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.get_by_role("button", name=button).click()
    status = page.locator(f'[data-copy-status="{value_id}"]')
    await status.filter(has_text=COPIED).wait_for()
    return await status.inner_text()


async def shown_once(opened: OpenPage, what: str) -> None:
    """The page showing a value once is accessible and fits the phone."""
    found = await audit(opened, None)
    check_accessibility(found, what)
    assert found["overflow"] <= 0, (what, found["wide"])


async def test_a_new_token_and_an_invitation_are_copied(site: Site, open_page: PageOpener) -> None:
    opened = await open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page = opened.page
    community = await signed_in(site, opened)
    await page.goto(f"{community}/tokens")
    await page.get_by_label("Who or what uses it").fill("Newsletter script")
    await page.get_by_role("button", name="Make a token").click()
    token = (await page.locator("#new-token").inner_text()).strip()
    assert token.startswith("copub_")
    await shown_once(opened, "the new token")
    said = await copy(opened, "new-token", "Copy the token")
    if said == "Copied.":
        assert await page.evaluate("navigator.clipboard.readText()") == token
    await page.goto(f"{community}/people")
    await page.get_by_role("button", name="Invite a coordinator").click()
    link = (await page.locator("#invite-link").inner_text()).strip()
    assert link.startswith(f"{site.base_url}/console/invite/")
    await shown_once(opened, "the invitation")
    said = await copy(opened, "invite-link", "Copy the link")
    if said == "Copied.":
        assert await page.evaluate("navigator.clipboard.readText()") == link
    opened.assert_no_errors()
