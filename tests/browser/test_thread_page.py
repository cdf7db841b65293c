"""A thread's page on a phone: a deep conversation stays readable (no sideways scrolling),
and "Reply from your server" takes the visitor to their own server, on the post."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from actors.store.models import ObjectRow
from tests.browser.conftest import BROWSER_LOOP, PHONE, PageOpener, Site, Visitor
from tests.pages.builders import actor_url, add_post

pytestmark = BROWSER_LOOP


async def test_a_deep_conversation_fits_a_phone(site: Site, open_page: PageOpener) -> None:
    # Given a chain of eight answers under the story, each from another server
    db = site.copub.sessions
    above = site.story
    for n in range(8):
        author = actor_url(f"nurse{n}", f"ward{n}.hospital-with-a-long-name.example")
        row = await add_post(db, site.community, author, html=f"<p>Answer {n}</p>", reply_to=above)
        async with db.begin() as session:
            await session.execute(
                update(ObjectRow).where(ObjectRow.id == row.id).values(thread_root=site.story)
            )
        above = row.ap_id
    opened = await open_page(viewport=PHONE, is_mobile=True)
    page = opened.page
    await page.goto(site.story)
    # Then every answer shows, nested, with its server, and nothing is wider than the screen
    assert await page.locator("article.reply").count() == 9
    assert await page.locator("ol.thread ol.thread").count() >= 4
    assert "ward7.hospital-with-a-long-name.example" in await page.locator("main").inner_text()
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    opened.assert_no_errors()


async def test_reply_from_your_server(site: Site, visitor: Visitor, open_page: PageOpener) -> None:
    opened = await open_page(viewport=PHONE, is_mobile=True)
    page = opened.page
    await page.goto(site.story)
    join = page.locator("section", has=page.get_by_role("heading", name="Join the conversation"))
    await join.get_by_label("Your account").fill(f"@alice@{visitor.host}")
    await join.get_by_role("button", name="Reply from your server").click()
    # (a glob's * stops at a slash, and the uri has some)
    await page.wait_for_url(
        lambda url: url.startswith(f"{visitor.base_url}/authorize_interaction?")
    )
    assert parse_qs(urlsplit(page.url).query) == {"uri": [site.story]}
    assert visitor.lookups == [f"acct:alice@{visitor.host}"]
    opened.assert_no_errors()
