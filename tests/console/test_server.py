"""The admins' server pages: communities (create, edit: the same functions as ``copub
community create|edit``, followers told of a new profile), coordinators (who signs in
and where; an invitation; a new sign-in link, as ``copub admin reset``), and that only
admins open them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.settings import Settings
from actors.store import accounts, queries
from actors.store.models import ActivityRow, DeliveryRow
from tests import factories
from tests.console.helpers import (
    PASSWORD,
    Person,
    admin_link,
    audit_actions,
    coordinator,
    path_of,
    set_up,
)
from tests.pages.builders import actor_url, add_follower

Sessions = async_sessionmaker[AsyncSession]
Console = TestClient[Any, Any]
LINK_RE = re.compile(r'<code id="(?:invite|setup)-link" class="copyable">([^<]+)</code>')


async def admin(browser: Person, db: Sessions) -> Person:
    page = await set_up(browser, await admin_link(db, "ada"))
    assert page.status == 200, page.text
    return browser


async def updates_sent(db: Sessions) -> list[tuple[str, list[str]]]:
    """(the Group's name in it, inboxes) of each Update the server queued."""
    async with db() as session:
        rows = list(
            await session.scalars(select(ActivityRow).where(ActivityRow.ap_type == "Update"))
        )
        found = []
        for row in rows:
            inboxes = await session.scalars(
                select(DeliveryRow.inbox).where(DeliveryRow.activity_id == row.id)
            )
            found.append((row.ap_json["object"]["name"], sorted(inboxes)))
        return found


async def test_signed_out_goes_to_sign_in(browser: Person) -> None:
    page = await browser.get("/console/server/communities", follow=False)
    assert page.status == 303
    assert page.location.startswith("/console/signin?next=/console/server/communities")


async def test_an_admin_creates_a_community(browser: Person, db: Sessions) -> None:
    await admin(browser, db)
    page = await browser.get("/console/server/communities")
    assert page.status == 200
    assert "<h1>Manage communities</h1>" in page.text
    page = await browser.post(
        "/console/server/communities",
        {"slug": "pharmacy", "name": " Ward Pharmacy ", "summary": "Medicines on the ward.",
         "closed": "on", "field-0-name": "Meets", "field-0-value": "Mondays",
         "field-1-name": "", "field-1-value": ""},
    )  # fmt: skip
    assert page.status == 200
    assert path_of(page.url) == "/console/server/communities/pharmacy"
    assert "Community created." in page.text
    assert 'value="Ward Pharmacy"' in page.text
    async with db() as session:
        pharmacy = await queries.get_community(session, "pharmacy")
    assert pharmacy is not None
    assert (pharmacy.name, pharmacy.summary, pharmacy.closed) == (
        "Ward Pharmacy", "Medicines on the ward.", True,
    )  # fmt: skip
    assert pharmacy.profile_fields == (("Meets", "Mondays"),)
    assert pharmacy.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert ("ada", "community.create") in await audit_actions(db)
    page = await browser.get("/console")
    assert "Ward Pharmacy" in page.text  # and it is in the admin's communities


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"slug": "Bad Slug", "name": "Bad"}, "slug", "invalid slug"),
        ({"slug": "nightshift", "name": "Again"}, "slug", "already"),
        ({"slug": "empty", "name": "  "}, "name", "needs a name"),
        ({"slug": "long", "name": "N" * 201}, "name", "longer than 200"),
        ({"slug": "nameless", "name": "F", "field-0-name": "", "field-0-value": "x"}, "fields",
         "needs a name"),
    ],
)  # fmt: skip
async def test_a_refused_community_comes_back_with_its_error(
    browser: Person, db: Sessions, form: dict[str, str], field: str, message: str
) -> None:
    await factories.create_community(db, "nightshift")
    await admin(browser, db)
    await browser.get("/console/server/communities")
    before = await factories.community_rows(db)
    page = await browser.post("/console/server/communities", {"summary": "Kept.", **form})
    assert page.status == 400
    assert f'id="f-{field}-error"' in page.text
    assert message in page.text.lower()
    assert ">Kept.</textarea>" in page.text
    assert f'value="{form["slug"]}"' in page.text
    assert await factories.community_rows(db) == before
    assert "community.create" not in [a for _who, a in await audit_actions(db)]


async def test_an_edit_reaches_the_followers(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = actor_url("alice")
    await add_follower(db, nightshift, alice)
    await admin(browser, db)
    page = await browser.get("/console/server/communities/nightshift")
    assert page.status == 200
    assert 'value="Night Shift Nursing"' in page.text
    page = await browser.post(
        "/console/server/communities/nightshift",
        {"name": "Night Shift Nurses", "summary": "Safer nights.", "closed": "on",
         "field-0-name": "Meets", "field-0-value": "Third Tuesday"},
    )  # fmt: skip
    assert page.status == 200
    assert "Saved: its followers get the new profile." in page.text
    async with db() as session:
        edited = await queries.get_community(session, "nightshift")
    assert edited is not None
    assert (edited.name, edited.summary, edited.closed) == (
        "Night Shift Nurses",
        "Safer nights.",
        True,
    )
    assert edited.profile_fields == (("Meets", "Third Tuesday"),)
    assert await updates_sent(db) == [("Night Shift Nurses", [alice + "/inbox"])]
    assert ("ada", "community.edit") in await audit_actions(db)

    page = await browser.post(  # the same again: nothing to send
        "/console/server/communities/nightshift",
        {"name": "Night Shift Nurses", "summary": "Safer nights.", "closed": "on",
         "field-0-name": "Meets", "field-0-value": "Third Tuesday"},
    )  # fmt: skip
    assert "Nothing changed." in page.text
    assert len(await updates_sent(db)) == 1


async def test_a_refused_edit_changes_nothing(browser: Person, db: Sessions) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await add_follower(db, nightshift, actor_url("alice"))
    await admin(browser, db)
    await browser.get("/console/server/communities/nightshift")
    before = await factories.community_rows(db)
    page = await browser.post(
        "/console/server/communities/nightshift",
        {"name": "", "summary": "A new summary.", "field-0-name": "Meets", "field-0-value": "x"},
    )
    assert page.status == 400
    assert 'id="f-name-error"' in page.text
    assert ">A new summary.</textarea>" in page.text
    assert 'value="Meets"' in page.text
    assert await factories.community_rows(db) == before
    assert await updates_sent(db) == []
    assert (await browser.get("/console/server/communities/nobody")).status == 404


async def test_the_coordinators_page_lists_who_signs_in_and_where(
    browser: Person, settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    await factories.create_community(db, "pharmacy")
    await coordinator(browser.client, settings, db, nightshift.id)
    await admin(browser, db)
    page = await browser.get("/console/server/coordinators")
    assert page.status == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "ada (admin)" in text
    assert "All (an admin)" in text
    assert "alice Communities nightshift" in text
    assert "New sign-in link for alice" in text


async def test_an_admin_invites_a_coordinator(browser: Person, db: Sessions) -> None:
    await factories.create_community(db, "nightshift")
    await admin(browser, db)
    await browser.get("/console/server/coordinators")
    page = await browser.post("/console/server/coordinators/invite", {"community": "nightshift"})
    assert page.status == 200
    assert "not shown again" in page.text
    link = LINK_RE.search(page.text)
    assert link
    assert link.group(1).startswith("https://cop.test/console/invite/")
    assert ("ada", "invite.create") in await audit_actions(db)

    bob = another(browser)
    await bob.get(path_of(link.group(1)))
    page = await bob.post(
        path_of(link.group(1)), {"username": "bob", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert page.status == 200
    assert "Night Shift Nursing" in page.text
    page = await bob.get("/console/c/nightshift")
    assert page.status == 200

    page = await browser.post("/console/server/coordinators/invite", {"community": "nobody"})
    assert page.status == 400
    assert 'id="f-community-error"' in page.text


async def test_a_new_sign_in_link_sets_a_new_password(
    browser: Person, settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(browser.client, settings, db, nightshift.id)
    await admin(browser, db)
    await browser.get("/console/server/coordinators")
    page = await browser.post(f"/console/server/accounts/{await account_id(db, 'alice')}/reset")
    assert page.status == 200
    link = LINK_RE.search(page.text)
    assert link
    assert link.group(1).startswith("https://cop.test/console/setup/")
    assert ("ada", "account.reset") in await audit_actions(db)

    page = await set_up(alice, path_of(link.group(1)), "a brand new password")
    assert page.status == 200
    assert "Your communities" in page.text
    await alice.sign_out()
    assert (await alice.sign_in("alice")).status == 401  # the old password no longer works
    page = await alice.sign_in("alice", "a brand new password")
    assert page.status == 200
    assert "Night Shift Nursing" in page.text
    assert (await browser.post("/console/server/accounts/999/reset")).status == 404
    assert (await browser.post("/console/server/accounts/99999999999/reset")).status == 404


async def account_id(db: Sessions, name: str) -> int:
    async with db() as session:
        row = await accounts.account_named(session, name)
    assert row is not None
    return row.id


def another(who: Person) -> Person:
    """Another person's browser on the same console."""
    return Person(who.client, who.origin)
