"""The console makes a community members-only: the admin is told what it
means, it is in the audit log; unticking the box makes it public again and says that the
earlier items stay members-only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import queries
from tests import factories
from tests.console.helpers import Person, admin_link, audit_actions, set_up

Sessions = async_sessionmaker[AsyncSession]
PATH = "/console/server/communities/nightshift"


async def test_an_admin_makes_a_community_members_only(browser: Person, db: Sessions) -> None:
    await factories.create_community(db, "nightshift")
    assert (await set_up(browser, await admin_link(db, "ada"))).status == 200
    form = {"name": "Night Shift Nursing", "summary": "Safer nights."}
    page = await browser.post(PATH, {**form, "members_only": "on"})
    assert page.status == 200
    assert "from now on only approved followers see" in page.text
    async with db() as session:
        edited = await queries.get_community(session, "nightshift")
    assert edited is not None
    assert edited.members_only
    assert edited.closed
    assert ("ada", "community.edit") in await audit_actions(db)
    # the form shows it; sending it without the box makes it public again
    page = await browser.get(PATH)
    assert 'name="members_only" type="checkbox" checked' in page.text
    page = await browser.post(PATH, form)
    assert "everything it published while members-only stays members-only" in page.text
    async with db() as session:
        again = await queries.get_community(session, "nightshift")
    assert again is not None
    assert not again.members_only
    assert not again.closed
    assert again.gated_items


async def test_an_admin_creates_a_members_only_community(browser: Person, db: Sessions) -> None:
    assert (await set_up(browser, await admin_link(db, "ada"))).status == 200
    page = await browser.post(
        "/console/server/communities",
        {"slug": "ward", "name": "Ward", "summary": "", "members_only": "on"},
    )
    assert page.status == 200
    async with db() as session:
        ward = await queries.get_community(session, "ward")
    assert ward is not None
    assert ward.members_only
    assert ward.closed
