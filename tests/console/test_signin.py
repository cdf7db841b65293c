"""Signing in to the console: the first admin's setup link, a coordinator's invitation,
signing in and out, sessions that rotate, expire when idle and carry safe cookies."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import accounts
from actors.store.models_accounts import AccountRow, SessionRow
from actors.web.console.state import CONSOLE
from actors.web.keys import SESSIONS
from tests import factories
from tests.conftest import ClientFactory
from tests.console.helpers import (
    PASSWORD,
    FakeClock,
    Person,
    admin_link,
    audit_actions,
    console_settings,
    invite_link,
    person,
    set_up,
)

Sessions = async_sessionmaker[AsyncSession]
SESSION_COOKIE = "__Host-copub_session"  # base_url is https://cop.test


async def session_count(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(SessionRow)) or 0)


async def test_setup_link_password_sign_in_sign_out(browser: Person, db: Sessions) -> None:
    """The admin's one-time link sets the password and signs in; signing out ends the
    session; the password then signs in again; the link works only once."""
    setup = await admin_link(db, "ada")
    page = await set_up(browser, setup)
    assert page.status == 200, page.text
    assert "Your communities" in page.text, page.text
    assert "Signed in as <strong>ada</strong>" in page.text
    page = await browser.sign_out()
    assert page.status == 200
    assert "You are signed out." in page.text
    assert SESSION_COOKIE not in browser.cookies
    assert await session_count(db) == 0
    assert (await browser.get("/console", follow=False)).status == 303

    page = await browser.sign_in("ada")
    assert page.status == 200, page.text
    assert "Your communities" in page.text, page.text
    again = await browser.get(setup)
    assert again.status == 410
    assert "used already" in again.text
    assert [action for _who, action in await audit_actions(db)] == [
        "account.setup", "signin", "signout", "signin",
    ]  # fmt: skip


async def test_invitation_makes_a_coordinator(
    browser: Person, db: Sessions, make_client: ClientFactory
) -> None:
    """A coordinator's invitation: choose a name and a password, land on the community's
    console page; the community is theirs (and only it), in the audit log too."""
    nightshift = await factories.create_community(db)
    await factories.create_community(db, "pharmacy")
    invite = await invite_link(db, nightshift.id)
    page = await browser.get(invite)
    assert page.status == 200
    assert "Coordinate Night Shift Nursing" in page.text
    page = await browser.post(
        invite, {"username": "Nora", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert page.status == 200, page.text
    assert page.url == "/console/c/nightshift"
    assert "<h1>Night Shift Nursing</h1>" in page.text
    home = await browser.get("/console")
    assert "Night Shift Nursing" in home.text
    assert "Pharmacy" not in home.text
    async with db() as session:
        nora = await accounts.account_named(session, "nora")
        assert nora is not None
        assert nora.role == "coordinator"
        assert await accounts.community_ids(session, nora.id) == [nightshift.id]
    assert ("nora", "invite.accept") in await audit_actions(db)
    await browser.sign_out()
    assert (await browser.sign_in("nora")).url == "/console"


async def test_invitation_form_keeps_values_and_shows_errors(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db)
    invite = await invite_link(db, nightshift.id)
    await browser.get(invite)
    page = await browser.post(invite, {"username": "no spaces", "password": "short", "confirm": ""})
    assert page.status == 400
    assert 'value="no spaces"' in page.text
    assert 'id="f-username-error"' in page.text
    assert 'id="f-password-error"' in page.text
    async with db() as session:
        assert await accounts.count_accounts(session) == 0
    assert (await browser.get(invite)).status == 200  # the link still works


async def test_wrong_password_is_refused_and_logged_without_it(
    browser: Person, db: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    caplog.set_level(logging.INFO)
    page = await browser.sign_in("ada", "not the password at all")
    assert page.status == 401
    assert "do not match" in page.text
    assert SESSION_COOKIE not in browser.cookies
    failures = [r for r in caplog.records if r.getMessage() == "failed sign-in"]
    assert [(r.username, r.remote) for r in failures] == [("ada", "127.0.0.1")]  # type: ignore[attr-defined]
    assert "not the password at all" not in caplog.text
    assert ("(not signed in)", "signin.failed") in await audit_actions(db)


async def test_session_rotates_at_sign_in(browser: Person, db: Sessions) -> None:
    """Signing in makes a new session id; the one the browser had before (planted by an
    attacker, or someone else's) stops working."""
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "bob"))
    await browser.sign_in("bob")
    before = browser.cookies[SESSION_COOKIE]
    await browser.get("/console")
    page = await browser.post("/console/signin", {"username": "ada", "password": PASSWORD})
    assert "Signed in as <strong>ada</strong>" in page.text
    after = browser.cookies[SESSION_COOKIE]
    assert after != before
    stale = Person(browser.client, browser.origin, cookies={SESSION_COOKIE: before})
    assert (await stale.get("/console", follow=False)).status == 303

    planted = Person(browser.client, browser.origin, cookies={SESSION_COOKIE: "planted-by-someone"})
    await planted.sign_in("ada")
    assert planted.cookies[SESSION_COOKIE] != "planted-by-someone"


async def test_idle_session_expires(browser: Person, db: Sessions, clock: FakeClock) -> None:
    await set_up(browser, await admin_link(db, "ada"))
    idle = browser.client.app[CONSOLE].sessions.idle
    clock.advance(seconds=idle.total_seconds() - 60)
    assert (await browser.get("/console", follow=False)).status == 200  # seen: counts anew
    clock.advance(seconds=idle.total_seconds() - 1)
    assert (await browser.get("/console", follow=False)).status == 200
    abandoned = Person(browser.client, browser.origin)
    await abandoned.sign_in("ada")  # and never comes back
    clock.advance(seconds=idle.total_seconds())
    page = await browser.get("/console", follow=False)
    assert page.status == 303
    assert page.location.startswith("/console/signin")
    assert await session_count(db) == 1
    await browser.sign_in("ada")  # the abandoned session goes on the way
    assert await session_count(db) == 1


async def test_cookies_on_https(browser: Person, db: Sessions) -> None:
    """On an https base_url the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax."""
    await set_up(browser, await admin_link(db, "ada"))
    attributes = browser.cookie_attributes[SESSION_COOKIE]
    assert attributes["secure"]
    assert attributes["httponly"]
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"


async def test_cookies_on_http(make_client: ClientFactory, database_url: str) -> None:
    settings = console_settings(database_url, base_url="http://127.0.0.1:8080")
    client: TestClient[Any, Any] = await make_client(settings)
    someone = person(client, settings)
    await set_up(someone, await admin_link(_db(client)))
    attributes = someone.cookie_attributes["copub_session"]
    assert not attributes["secure"]
    assert attributes["httponly"]
    assert attributes["samesite"] == "Lax"


def _db(client: TestClient[Any, Any]) -> Sessions:
    return client.app[SESSIONS]  # type: ignore[no-any-return]


async def test_password_rehashed_when_parameters_change(
    make_client: ClientFactory, database_url: str
) -> None:
    first: TestClient[Any, Any] = await make_client(console_settings(database_url))
    await set_up(person(first, console_settings(database_url)), await admin_link(_db(first), "ada"))
    async with _db(first)() as session:
        old = (await accounts.account_named(session, "ada")).password_hash  # type: ignore[union-attr]
    assert old is not None
    assert "m=1024,t=1,p=1" in old
    stronger = console_settings(database_url, argon2_time_cost=2, argon2_memory_kib=2048)
    second: TestClient[Any, Any] = await make_client(stronger)
    page = await person(second, stronger).sign_in("ada")
    assert "Your communities" in page.text
    async with _db(second)() as session:
        new = await session.scalar(
            select(AccountRow.password_hash).where(AccountRow.username == "ada")
        )
    assert new is not None
    assert "m=2048,t=2,p=1" in new
