"""The console in a real browser: the first admin's setup link, signing in and out, under
the page policy (nothing inline runs), with the accessibility basics of the public pages
(landmarks, one h1, labels, contrast) and no sideways scrolling on a phone."""

from __future__ import annotations

import re

from tests.browser.conftest import BROWSER_LOOP, PHONE, OpenPage, PageOpener, Site
from tests.browser.test_pages import audit, check_accessibility

pytestmark = BROWSER_LOOP

PASSWORD = "three words remembered"


async def setup_link(site: Site) -> str:
    output = await site.copub.cli("admin", "create", "ada")
    found = re.search(r"(http://\S+/console/setup/\S+)", output)
    assert found, output
    return found.group(1)


async def sign_out(opened: OpenPage) -> None:
    await opened.page.get_by_role("button", name="Sign out", exact=True).click()
    await opened.page.get_by_role("status").filter(has_text="You are signed out.").wait_for()


async def test_setup_sign_in_and_sign_out(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    page = opened.page
    await page.goto(await setup_link(site))
    assert await page.locator("h1").inner_text() == "Set your password"
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{site.base_url}/console")
    assert await page.locator("h1").inner_text() == "Your communities"
    assert "Night Shift Nursing" in await page.locator("main").inner_text()
    await sign_out(opened)
    assert page.url.startswith(f"{site.base_url}/console/signin")

    await page.goto(f"{site.base_url}/console/sessions")  # not signed in: sign in first
    await page.get_by_label("Name").fill("ada")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    assert "do not match" in await page.locator("#f-password-error").inner_text()
    assert await page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url(f"{site.base_url}/console/sessions")
    assert await page.locator("h1").inner_text() == "Your sessions"
    await sign_out(opened)
    # a wrong password is answered 401 by design; the browser reports that, nothing else
    assert all("401" in e for e in opened.errors), opened.errors


async def console_pages(site: Site, opened: OpenPage) -> list[str]:
    page = opened.page
    await page.goto(await setup_link(site))
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{site.base_url}/console")
    base = f"{site.base_url}/console"
    pages = [base, f"{base}/c/{site.community.slug}", f"{base}/account", f"{base}/sessions"]
    await page.goto(pages[1])  # and every page of the community's navigation
    links = await page.locator("nav.console a").evaluate_all("(links) => links.map(a => a.href)")
    found = sorted({link for link in links if link.startswith(pages[1] + "/")})
    assert f"{pages[1]}/people" in found, links  # the registered pages are in the navigation
    server = sorted({link for link in links if link.startswith(f"{base}/server/")})
    assert f"{base}/server/audit" in server, links  # an admin's, in the navigation too
    return [*pages, *found, *server, f"{base}/server/communities/{site.community.slug}"]


async def test_console_pages_are_accessible(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    for url in await console_pages(site, opened):
        check_accessibility(await audit(opened, url), url)
    signed_out = await open_page(color_scheme="dark")
    url = f"{site.base_url}/console/signin"
    check_accessibility(await audit(signed_out, url), url)
    opened.assert_no_errors()
    signed_out.assert_no_errors()


async def test_console_pages_fit_a_phone(site: Site, open_page: PageOpener) -> None:
    opened = await open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    for url in await console_pages(site, opened):
        found = await audit(opened, url)
        assert found["overflow"] <= 0, (url, found["wide"])
    opened.assert_no_errors()
