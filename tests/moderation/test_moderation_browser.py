"""The Moderation page, its "reject all" confirmation, the server's reports and the public
moderation log in a real browser (tests/browser): with held posts (one carrying markup and
a long word), filters of the community and of the server, reports, a removed post, a ban
and log lines, each keeps to the
accessibility basics on a desktop and fits a phone; a held post's markup stays text; a
coordinator approves and rejects by the buttons' names."""

from __future__ import annotations

from typing import Any

from actors.moderation import bans, filters, holds, reports
from actors.moderation.modlog import Moderator
from actors.store.models import ObjectRow
from federation.clock import utcnow
from tests.browser.conftest import BROWSER_LOOP, PHONE, PageOpener, Site, browser, open_page, site
from tests.browser.test_console_write import signed_in
from tests.browser.test_pages import audit, check_accessibility

__all__ = ["browser", "open_page", "site"]

pytestmark = BROWSER_LOOP

LONG = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2
SAM = "https://social.example/users/sam"


def create_of(n: int, html: str) -> tuple[dict[str, Any], dict[str, Any]]:
    note = {"id": f"{SAM}/statuses/{n}/{LONG}", "type": "Note", "attributedTo": SAM,
            "content": html, "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": SAM}, note


async def held_posts(site: Site) -> None:
    async with site.copub.sessions.begin() as session:
        for n, html in enumerate(
            [f"<p>Cheap {LONG} <script>window.pwned = 1</script> <b>now</b></p>", "<p>Hello</p>"]
        ):
            activity, note = create_of(n, html)
            await holds.hold(session, site.community, activity, note, SAM, "not a follower")
        await filters.add_filter(session, site.community.id, filters.parse_filter("word", LONG))
        await filters.add_filter(session, None, filters.parse_filter("domain", "spam.example"))


async def reports_removals_and_bans(site: Site) -> None:
    """A report in the community's queue and one in the server's, a removed post and a
    ban, each with a long word (the sections' lists)."""
    long_url = f"{SAM}/statuses/7/{LONG}"
    async with site.copub.sessions.begin() as session:
        for n, community in enumerate([site.community, None]):
            flag = reports.IncomingFlag(f"{SAM}/flags/{n}", SAM, (SAM, long_url),
                                        f"Spam {LONG} <b>here</b>", ())  # fmt: skip
            await reports.receive_flag(session, flag, community)
        now = utcnow()
        session.add(ObjectRow(ap_id=long_url, community_id=site.community.id, kind="post",
                              ap_type="Note", attributed_to=SAM, content_html=f"<p>{LONG}</p>",
                              removed_at=now, deleted_at=now))  # fmt: skip
        await bans.ban(session, site.copub.urls, site.community, f"{SAM}/{LONG}",
                       by=Moderator("ada", "admin"), reason=f"Spam {LONG}")  # fmt: skip


async def test_the_moderation_pages_are_accessible_and_fit_a_phone(
    site: Site, open_page: PageOpener
) -> None:
    await held_posts(site)
    await reports_removals_and_bans(site)
    opened = await open_page()
    await signed_in(site, opened)
    moderation = f"{site.base_url}/console/c/{site.community.slug}/moderation"
    page = opened.page
    await page.goto(moderation)
    held = page.locator("blockquote").first
    assert "<script>window.pwned = 1</script>" not in await page.content()
    assert "window.pwned = 1 now" in await held.inner_text()  # text, not markup
    assert await page.evaluate("window.pwned") is None
    # the second post is approved by its button; the first rejected with a reason
    await page.get_by_role("button", name="Approve post #2").click()
    await page.get_by_role("status").filter(has_text="Approved").wait_for()
    await page.get_by_text("Reject post #1…").click()
    await page.get_by_label("Reason (shown in the public log)").fill("Advertising")
    await page.get_by_role("button", name="Reject post #1").click()
    await page.get_by_role("status").filter(has_text="Rejected").wait_for()
    await held_posts_again(site)
    phone = await open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await phone.page.context.add_cookies(await opened.page.context.cookies())
    urls = [moderation, f"{moderation}/held/reject-all",
            site.copub.urls.community_modlog(site.community.slug),
            f"{site.base_url}/console/server/reports"]  # fmt: skip
    for url in urls:
        check_accessibility(await audit(opened, url), url)
        found = await audit(phone, url)
        assert found["overflow"] <= 0, (url, found["wide"])
    await page.goto(moderation)
    for name in ("Resolve report #1", "Restore", "Remove the post", "Lock the thread", "Unban"):
        await page.get_by_role("button", name=name).first.wait_for()
    await page.goto(site.copub.urls.community_modlog(site.community.slug))
    modlog = await page.locator("main").inner_text()
    assert "A coordinator rejected a post" in modlog or "An admin rejected a post" in modlog
    assert "Reason: Advertising" in modlog
    opened.assert_no_errors()
    phone.assert_no_errors()


async def held_posts_again(site: Site) -> None:
    """One more held post, so the confirmation has something to reject."""
    async with site.copub.sessions.begin() as session:
        activity, note = create_of(3, f"<p>{LONG}</p>")
        await holds.hold(session, site.community, activity, note, SAM, "a filter")
