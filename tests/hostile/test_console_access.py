"""Reaching into another community through the console: a coordinator of one community
opening (or guessing) the pages of another, or someone not signed in opening any.

A coordinator gets 403 for a community that is not theirs, with the same answer whether
it exists or not and nothing of it in the answer; someone not signed in is sent to the
sign-in page (GET) or refused (POST); one person cannot end another's sessions; a
coordinator cannot open the admins' server pages nor use their forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.store import accounts, tokens
from actors.store.models import ActivityRow, BlockRow, ObjectRow
from actors.store.models_accounts import AuditRow, InviteRow, SessionRow
from tests import factories
from tests.console.conftest import browser, clock, console, db, settings
from tests.console.helpers import PASSWORD, Person, admin_link, invite_link, set_up
from tests.pages.builders import add_story

__all__ = ["browser", "clock", "console", "db", "settings"]

Sessions = async_sessionmaker[AsyncSession]


async def coordinator_of(browser: Person, db: Sessions, community_id: int, name: str) -> Person:
    invite = await invite_link(db, community_id)
    await browser.get(invite)
    page = await browser.post(invite, {"username": name, "password": PASSWORD, "confirm": PASSWORD})
    assert page.status == 200, page.text
    return browser


def main_of(text: str) -> str:
    return re.sub(r'content="[^"]*"|value="[^"]*"', "", text.split("<main", 1)[1])


async def test_a_coordinator_cannot_open_another_community(browser: Person, db: Sessions) -> None:
    mine = await factories.create_community(db, "nightshift")
    await factories.create_community(
        db, "incidents", name="Incident Review Circle", summary="Members-only case reviews."
    )
    await coordinator_of(browser, db, mine.id, "nora")
    assert (await browser.get("/console/c/nightshift")).status == 200
    other = await browser.get("/console/c/incidents")
    missing = await browser.get("/console/c/no_such_community")
    assert other.status == missing.status == 403
    for leak in ("incidents", "Incident Review", "Members-only"):
        assert leak not in other.text, leak
    assert main_of(other.text) == main_of(missing.text)
    home = await browser.get("/console")
    assert "Incident Review Circle" not in home.text


async def test_an_admin_opens_every_community(browser: Person, db: Sessions) -> None:
    await factories.create_community(db, "incidents", name="Incident Review Circle")
    await set_up(browser, await admin_link(db, "ada"))
    page = await browser.get("/console/c/incidents")
    assert page.status == 200
    assert "<h1>Incident Review Circle</h1>" in page.text
    assert "Incident Review Circle" in (await browser.get("/console")).text
    assert (await browser.get("/console/c/no_such_community")).status == 404


async def test_nobody_signed_in_is_sent_to_sign_in(browser: Person, db: Sessions) -> None:
    await factories.create_community(db, "nightshift")
    for path in ("/console", "/console/c/nightshift", "/console/account", "/console/sessions"):
        page = await browser.get(path, follow=False)
        assert page.status == 303, path
        assert page.location.startswith("/console/signin?next="), path
    await browser.get("/console/signin")
    page = await browser.post("/console/account/actor", {"actor_url": "https://x.example/u"})
    assert page.status == 403


async def test_the_sign_in_page_goes_back_only_to_the_console(
    browser: Person, db: Sessions
) -> None:
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    for target, landing in (
        ("/console/sessions", "/console/sessions"),
        ("https://evil.example/", "/console"),
        ("//evil.example/console", "/console"),
        ("/console\\@evil.example", "/console"),
    ):
        fresh = Person(browser.client, browser.origin)
        await fresh.get("/console/signin")
        page = await fresh.post(
            "/console/signin", {"username": "ada", "password": PASSWORD, "next": target}
        )
        assert page.url == landing, target


async def session_ids(db: Sessions) -> list[int]:
    async with db() as session:
        return list(await session.scalars(select(SessionRow.id).order_by(SessionRow.id)))


async def test_one_cannot_end_anothers_session(browser: Person, db: Sessions) -> None:
    await set_up(browser, await admin_link(db, "ada"))
    other = Person(browser.client, browser.origin)
    await set_up(other, await admin_link(db, "bob"))
    ada_session, bob_session = await session_ids(db)
    await browser.get("/console/sessions")
    page = await browser.post("/console/sessions/end", {"session": str(bob_session)})
    assert page.status == 200
    assert await session_ids(db) == [ada_session, bob_session]
    assert (await other.get("/console", follow=False)).status == 200


async def test_a_coordinator_cannot_reach_another_communitys_people_network_or_tokens(
    browser: Person, db: Sessions
) -> None:
    """The People, Network and Tokens pages of another community answer 403, the same as
    for a community that does not exist, and their POSTs change nothing."""
    mine = await factories.create_community(db, "nightshift")
    incidents = await factories.create_community(db, "incidents", name="Incident Review Circle")
    async with db.begin() as session:
        row, _secret = await tokens.create_token(session, incidents.id, "Members-only script")
        token_id = row.id
    await coordinator_of(browser, db, mine.id, "nora")
    await browser.get("/console/c/nightshift/people")  # a page of mine: a valid token
    for tail in ("/people", "/people/events/x", "/network", "/tokens"):
        other = await browser.get(f"/console/c/incidents{tail}")
        missing = await browser.get(f"/console/c/no_such_community{tail}")
        assert other.status == missing.status == 403, tail
        assert main_of(other.text) == main_of(missing.text), tail
        for leak in ("Incident Review", "Members-only"):
            assert leak not in other.text, (tail, leak)
    before = await audit_count(db)
    posts = {
        "/people/requests": {"actor": "https://x.example/u/a", "decision": "approve"},
        "/people/followers/remove": {"actor": "https://x.example/u/a"},
        "/people/blocks": {"target": "x.example", "reason": "planted"},
        "/people/blocks/undo": {"kind": "domain", "value": "x.example"},
        "/people/coordinators/invite": {},
        "/people/coordinators/remove": {"account": "1"},
        "/network/find": {"target": "@group@x.example"},
        "/network/link": {"actor": "https://x.example/c/g", "policy": "none"},
        "/network/unlink": {"actor": "https://x.example/c/g"},
        "/network/policy": {"actor": "https://x.example/c/g", "policy": "announce"},
        "/tokens": {"label": "planted"},
        f"/tokens/{token_id}/revoke": {},
    }
    for tail, form in posts.items():
        page = await browser.post(f"/console/c/incidents{tail}", form)
        assert page.status == 403, tail
        assert "Members-only" not in page.text
    assert await audit_count(db) == before
    async with db() as session:
        assert [t.label for t in await tokens.list_tokens(session, incidents.id)] == [
            "Members-only script"
        ]
        assert await session.scalar(select(func.count()).select_from(BlockRow)) == 0
        assert await accounts.open_invites(session, incidents.id, datetime.now(UTC)) == []


async def audit_count(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditRow)) or 0)


async def test_a_coordinator_cannot_write_in_another_community(
    browser: Person, db: Sessions
) -> None:
    """The write pages of another community answer 403, the same as for a community that
    does not exist, and a POST to them (publish, edit, delete, preview) changes nothing."""
    mine = await factories.create_community(db, "nightshift")
    incidents = await factories.create_community(db, "incidents", name="Incident Review Circle")
    theirs = await add_story(db, incidents, "Members-only case", "A confidential review.")
    ref = theirs.ap_id.rsplit("/", 1)[-1]
    await coordinator_of(browser, db, mine.id, "nora")
    await browser.get("/console/c/nightshift/write/story")  # a page of mine: a valid token
    gets = ["", "/write", "/write/story", "/write/event", f"/items/{ref}/edit",
            f"/items/{ref}/delete"]  # fmt: skip
    posts = {
        "/write/story": {"title": "Planted", "markdown": "Planted."},
        f"/items/{ref}/edit": {"title": "Changed", "markdown": "Changed."},
        f"/items/{ref}/delete": {},
        "/preview": {"markdown": "**x**"},
    }
    for tail in gets:
        other = await browser.get(f"/console/c/incidents{tail}")
        missing = await browser.get(f"/console/c/no_such_community{tail}")
        assert other.status == missing.status == 403, tail
        assert main_of(other.text) == main_of(missing.text), tail
        for leak in ("Incident Review", "Members-only", "confidential"):
            assert leak not in other.text, (tail, leak)
    for tail, form in posts.items():
        page = await browser.post(f"/console/c/incidents{tail}", form)
        assert page.status == 403, tail
        assert "Members-only" not in page.text
    async with db() as session:
        rows = list(await session.scalars(select(ObjectRow)))
        activities = await session.scalar(select(func.count()).select_from(ActivityRow))
    assert [(r.title, r.source_markdown, r.deleted_at) for r in rows] == [
        ("Members-only case", "A confidential review.", None)
    ]
    assert activities == 0


SERVER_PAGES = ["/console/server", "/console/server/communities",
                "/console/server/communities/nightshift", "/console/server/coordinators",
                "/console/server/deliveries", "/console/server/reports",
                "/console/server/audit"]  # fmt: skip
SERVER_FORMS = {
    "/console/server/communities": {"slug": "mine", "name": "Mine"},
    "/console/server/communities/nightshift": {"name": "Taken over", "closed": "on"},
    "/console/server/coordinators/invite": {"community": "nightshift"},
    "/console/server/accounts/1/reset": {},
    "/console/server/deliveries/retry": {"host": "social.example"},
    "/console/server/reports/1/resolve": {},
}


async def test_a_coordinator_cannot_open_the_admins_pages(browser: Person, db: Sessions) -> None:
    """The server pages answer a coordinator 403, and their forms change nothing: no
    community made or edited, no invitation or sign-in link made, nothing in the log."""
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    nightshift = await factories.create_community(db, "nightshift")
    await coordinator_of(browser, db, nightshift.id, "nora")
    for path in SERVER_PAGES:
        page = await browser.get(path)
        assert page.status == 403, path
        assert "Only an admin" in page.text
    communities, links = await factories.community_rows(db), await invite_count(db)
    logged = await audit_count(db)
    for path, form in SERVER_FORMS.items():
        await browser.get("/console")  # a page of the console: a valid token
        assert (await browser.post(path, form)).status == 403, path
    assert await factories.community_rows(db) == communities
    assert await invite_count(db) == links
    assert await audit_count(db) == logged


async def invite_count(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(InviteRow)) or 0)
