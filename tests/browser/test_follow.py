"""What a visitor does on the community page: follow from their own server, copy the
handle, add an event to their calendar."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import icalendar

from tests.browser.conftest import BROWSER_LOOP, PHONE, PageOpener, Site, Visitor

pytestmark = BROWSER_LOOP


async def test_follow_form_sends_the_visitor_to_their_server(
    site: Site, visitor: Visitor, open_page: PageOpener
) -> None:
    opened = await open_page(viewport=PHONE, is_mobile=True)
    page = opened.page
    await page.goto(site.community_url)
    await page.get_by_label("Your account").fill(f"@alice@{visitor.host}")
    await page.get_by_role("button", name="Follow from your server").click()
    await page.wait_for_url(f"{visitor.base_url}/authorize_interaction?*")
    assert parse_qs(urlsplit(page.url).query) == {"uri": [site.handle]}
    assert await page.locator("h1").inner_text() == f"Follow {site.handle}?"
    assert visitor.lookups == [f"acct:alice@{visitor.host}"]
    opened.assert_no_errors()


async def test_follow_form_explains_a_wrong_account(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    page = opened.page
    await page.goto(site.community_url)
    await page.get_by_label("Your account").fill("alice")
    await page.get_by_role("button", name="Follow from your server").click()
    alert = page.get_by_role("alert")
    assert await alert.inner_text() == "Enter your account as you@your.server."
    field = page.get_by_label("Your account")
    assert await field.get_attribute("aria-invalid") == "true"
    assert await field.input_value() == "alice"
    # a 400 answer is reported by the browser itself; the page made no error of its own
    assert all("400" in e for e in opened.errors), opened.errors


async def test_copy_handle_button_copies(site: Site, open_page: PageOpener) -> None:
    opened = await open_page(permissions=["clipboard-read", "clipboard-write"])
    page = opened.page
    await page.goto(site.community_url)
    await page.get_by_role("button", name="Copy handle").click()
    status = page.get_by_role("status")
    await status.filter(has_text="Copied").wait_for()
    assert await status.inner_text() == f"Copied @{site.handle}."
    assert await page.evaluate("navigator.clipboard.readText()") == f"@{site.handle}"
    opened.assert_no_errors()


async def test_copy_handle_without_clipboard_selects_it(site: Site, open_page: PageOpener) -> None:
    opened = await open_page()
    page = opened.page
    await page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    await page.goto(site.community_url)
    await page.get_by_role("button", name="Copy handle").click()
    await page.get_by_role("status").filter(has_text="Selected").wait_for()
    assert await page.evaluate("String(window.getSelection())") == f"@{site.handle}"
    opened.assert_no_errors()


async def test_add_to_calendar_downloads_the_event(site: Site, open_page: PageOpener) -> None:
    opened = await open_page(accept_downloads=True)
    page = opened.page
    await page.goto(site.event)
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Add to calendar").click()
    download = await info.value
    assert download.suggested_filename.endswith(".ics")
    path = await download.path()
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == site.event
    assert str(event["SUMMARY"]) == "Monthly case review"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    opened.assert_no_errors()
