"""The console's write forms in a real browser: the live Markdown preview (a static script
asking copub under the page policy) shows the sanitized HTML as one types, the repetitions
of an event are named for its start, and the forms keep to the accessibility basics on a
desktop and on a phone."""

from __future__ import annotations

from tests.browser.conftest import BROWSER_LOOP, PHONE, OpenPage, PageOpener, Site
from tests.browser.test_console import PASSWORD, setup_link
from tests.browser.test_pages import audit, check_accessibility

pytestmark = BROWSER_LOOP


async def signed_in(site: Site, opened: OpenPage) -> str:
    """Signs in the first admin; the community's write page."""
    page = opened.page
    await page.goto(await setup_link(site))
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await page.get_by_role("button", name="Set password and sign in").click()
    await page.wait_for_url(f"{site.base_url}/console")
    return f"{site.base_url}/console/c/{site.community.slug}/write"


async def test_the_preview_follows_the_text(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    page = opened.page
    write = await signed_in(site, opened)
    await page.goto(f"{write}/story")
    preview = page.locator("#f-preview")
    await page.get_by_label("Text (Markdown)").fill(
        "A **long** night <script>window.pwned = 1</script> [x](javascript:alert(1))"
    )
    await preview.locator("strong", has_text="long").wait_for()
    assert await preview.locator("script, a").count() == 0
    assert "<script>window.pwned" in await preview.inner_text()  # shown as text
    assert await page.evaluate("window.pwned") is None

    await page.goto(f"{write}/event")
    repeats = page.get_by_label("Repeats")
    assert "the start's weekday" in await repeats.locator("option[value=weekly]").inner_text()
    await page.get_by_label("Starts", exact=True).fill("2030-01-15T18:00")  # a Tuesday
    option = repeats.locator("option[value=monthly_weekday]")
    assert await option.inner_text() == "Every month on the third Tuesday"
    assert await repeats.locator("option[value=weekly]").inner_text() == "Every week on Tuesday"
    opened.assert_no_errors()


async def test_the_write_forms_are_accessible(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    write = await signed_in(site, opened)
    phone = await open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await phone.page.context.add_cookies(await opened.page.context.cookies())
    for url in (write, f"{write}/story", f"{write}/practice", f"{write}/event"):
        check_accessibility(await audit(opened, url), url)
        found = await audit(phone, url)
        assert found["overflow"] <= 0, (url, found["wide"])
    opened.assert_no_errors()
    phone.assert_no_errors()
