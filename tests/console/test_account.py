"""The signed-in person's own pages: the fediverse account they moderate with (in the
``moderators`` collection of each of their communities, the same path as ``copub
moderators``), their password, their sessions."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import queries
from actors.store.models_accounts import SessionRow
from tests import factories
from tests.console.helpers import PASSWORD, Person, admin_link, audit_actions, invite_link, set_up

Sessions = async_sessionmaker[AsyncSession]
ALICE = "https://social.example/users/alice"
ALICE_NEW = "https://other.example/@alice"


async def moderators(db: Sessions, slug: str) -> list[str]:
    async with db() as session:
        community = await queries.get_community(session, slug)
        assert community is not None
        return await queries.list_moderators(session, community.id)


async def coordinator(browser: Person, db: Sessions, community_id: int) -> Person:
    invite = await invite_link(db, community_id)
    await browser.get(invite)
    await browser.post(invite, {"username": "alice", "password": PASSWORD, "confirm": PASSWORD})
    return browser


async def test_linking_the_fediverse_account_makes_a_moderator(
    browser: Person, db: Sessions, console: TestClient[Any, Any]
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    pharmacy = await factories.create_community(db, "pharmacy")
    await coordinator(browser, db, nightshift.id)
    await browser.get("/console/account")
    page = await browser.post("/console/account/actor", {"actor_url": ALICE})
    assert page.status == 200
    assert "Saved." in page.text
    assert f'value="{ALICE}"' in page.text
    assert await moderators(db, "nightshift") == [ALICE]
    status, collection = await _collection(console, "nightshift")
    assert status == 200
    assert ALICE in str(collection)

    invite = await invite_link(db, pharmacy.id)  # a second community later
    await browser.get(invite)
    await browser.post(invite, {"as_me": "1"})
    assert await moderators(db, "pharmacy") == [ALICE]

    await browser.get("/console/account")
    await browser.post("/console/account/actor", {"actor_url": ALICE_NEW})
    assert await moderators(db, "nightshift") == await moderators(db, "pharmacy") == [ALICE_NEW]
    await browser.get("/console/account")
    await browser.post("/console/account/actor", {"actor_url": ""})
    assert await moderators(db, "nightshift") == await moderators(db, "pharmacy") == []
    actions = [action for who, action in await audit_actions(db) if who == "alice"]
    assert actions.count("actor.link") == 3


async def _collection(console: TestClient[Any, Any], slug: str) -> tuple[int, Any]:
    async with console.get(
        f"/c/{slug}/moderators?page=1", headers={"Accept": "application/activity+json"}
    ) as r:
        return r.status, await r.json(content_type=None)


async def test_a_wrong_actor_url_comes_back_with_its_error(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await coordinator(browser, db, nightshift.id)
    await browser.get("/console/account")
    page = await browser.post("/console/account/actor", {"actor_url": "alice@social.example"})
    assert page.status == 400
    assert 'value="alice@social.example"' in page.text
    assert 'id="f-actor_url-error"' in page.text
    assert await moderators(db, "nightshift") == []


async def test_changing_the_password_ends_the_other_sessions(browser: Person, db: Sessions) -> None:
    await set_up(browser, await admin_link(db, "ada"))
    phone = Person(browser.client, browser.origin)
    await phone.sign_in("ada")
    await browser.get("/console/account")
    wrong = await browser.post(
        "/console/account/password",
        {
            "current": "not it at all",
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert wrong.status == 400
    assert "not your current password" in wrong.text
    page = await browser.post(
        "/console/account/password",
        {"current": PASSWORD, "password": "a new long password", "confirm": "a new long password"},
    )
    assert page.status == 200
    assert "Your password is changed." in page.text
    assert (await phone.get("/console", follow=False)).status == 303
    assert (await browser.get("/console", follow=False)).status == 200
    await browser.sign_out()
    assert (await browser.sign_in("ada", "a new long password")).status == 200


async def test_sessions_page_lists_and_ends_ones_own(browser: Person, db: Sessions) -> None:
    await set_up(browser, await admin_link(db, "ada"))
    phone = Person(
        browser.client,
        browser.origin,
        user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile",
    )
    await phone.sign_in("ada")
    page = await browser.get("/console/sessions")
    assert "Chrome on Android" in page.text
    assert "Firefox on Linux" in page.text
    assert page.text.count("this browser") == 1
    await browser.post("/console/sessions/end-others")
    assert (await phone.get("/console", follow=False)).status == 303
    assert (await browser.get("/console", follow=False)).status == 200
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(SessionRow)) == 1
    await browser.get("/console/sessions")
    [own] = await _session_ids(db)
    page = await browser.post("/console/sessions/end", {"session": str(own)})
    assert "You are signed out." in page.text


async def _session_ids(db: Sessions) -> list[int]:
    async with db() as session:
        return list(await session.scalars(select(SessionRow.id)))
