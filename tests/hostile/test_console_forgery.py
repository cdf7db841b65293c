"""Cross-site request forgery against the console: another site makes a signed-in
person's browser post a form to the console.

Every POST under /console must come from the console's origin (``Origin``, else
``Sec-Fetch-Site``, else ``Referer``) and carry the page's CSRF token; a request failing
either is refused with 403 before any handler runs, and nothing changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store.models_accounts import AccountRow
from tests.console.conftest import browser, clock, console, db, settings
from tests.console.helpers import PASSWORD, Person, admin_link, set_up

__all__ = ["browser", "clock", "console", "db", "settings"]

Sessions = async_sessionmaker[AsyncSession]
ACTOR = "https://social.example/users/ada"
EVIL = "https://evil.example"


async def linked_actor(db: Sessions) -> str | None:
    async with db() as session:
        return await session.scalar(
            select(AccountRow.actor_url).where(AccountRow.username == "ada")
        )


async def signed_in_admin(browser: Person, db: Sessions) -> None:
    await set_up(browser, await admin_link(db, "ada"))
    await browser.get("/console/account")


async def test_missing_token_is_refused_and_changes_nothing(browser: Person, db: Sessions) -> None:
    await signed_in_admin(browser, db)
    page = await browser.post("/console/account/actor", {"actor_url": ACTOR}, csrf=None)
    assert page.status == 403
    assert "security token" in page.text
    assert "<h1>403</h1>" in page.text  # a console page, not a traceback or JSON
    assert await linked_actor(db) is None
    page = await browser.post("/console/signout", csrf=None)
    assert page.status == 403
    assert (await browser.get("/console", follow=False)).status == 200  # still signed in


async def test_wrong_or_foreign_token_is_refused(browser: Person, db: Sessions) -> None:
    await signed_in_admin(browser, db)
    own = browser.csrf
    other = Person(browser.client, browser.origin)
    await set_up(other, await admin_link(db, "bob"))
    for token in ("", "x" * 43, own[:-1] + ("A" if own[-1] != "A" else "B"), other.csrf):
        page = await browser.post("/console/account/actor", {"actor_url": ACTOR}, csrf=token)
        assert page.status == 403, token
    assert await linked_actor(db) is None
    page = await browser.post("/console/account/actor", {"actor_url": ACTOR}, csrf=own)
    assert page.status == 200
    assert await linked_actor(db) == ACTOR


async def test_cross_site_post_is_refused_even_with_the_token(
    browser: Person, db: Sessions
) -> None:
    await signed_in_admin(browser, db)
    refused = [
        {"Origin": EVIL},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Referer": EVIL + "/page"},
        {"Origin": browser.origin.replace("https:", "http:")},
    ]
    for headers in refused:
        page = await browser.post(
            "/console/account/actor", {"actor_url": ACTOR}, origin=None, headers=headers
        )
        assert page.status == 403, headers
        assert "another site" in page.text, headers
    assert await linked_actor(db) is None


async def test_same_origin_signals_are_accepted(browser: Person, db: Sessions) -> None:
    """``Sec-Fetch-Site: same-origin`` or a same-origin ``Referer`` stand in for a missing
    Origin; with none of the three (no browser) the token alone decides."""
    await signed_in_admin(browser, db)
    for headers in (
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Referer": browser.origin + "/console/account"},
        {},
    ):
        await browser.get("/console/account")
        page = await browser.post(
            "/console/account/actor", {"actor_url": ACTOR}, origin=None, headers=headers
        )
        assert page.status == 200, headers


async def test_sign_in_form_needs_its_token_too(browser: Person, db: Sessions) -> None:
    """Login CSRF: another site cannot sign a browser in to an account of its choice."""
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    await browser.get("/console/signin")
    page = await browser.post("/console/signin", {"username": "ada", "password": PASSWORD},
                              csrf=None)  # fmt: skip
    assert page.status == 403
    page = await browser.post("/console/signin", {"username": "ada", "password": PASSWORD},
                              origin=EVIL)  # fmt: skip
    assert page.status == 403
    assert not [name for name in browser.cookies if name.endswith("copub_session")]


async def test_setup_link_needs_its_token(browser: Person, db: Sessions) -> None:
    setup = await admin_link(db, "ada")
    await browser.get(setup)
    page = await browser.post(setup, {"password": PASSWORD, "confirm": PASSWORD}, csrf=None)
    assert page.status == 403
    async with db() as session:
        stored = await session.scalar(select(AccountRow.password_hash))
    assert stored is None
    assert (await set_up(browser, setup)).status == 200  # the link still works


async def test_console_pages_send_their_origin(browser: Person) -> None:
    """Console pages keep the Referer to their own origin, so that browsers send
    ``Origin`` with their POSTs (with ``no-referrer`` they would send ``Origin: null``)."""
    page = await browser.get("/console/signin")
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    public = await browser.get("/")
    assert public.headers["Referrer-Policy"] == "no-referrer"
