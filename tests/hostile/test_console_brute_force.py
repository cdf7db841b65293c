"""Brute force against the console's sign-in: guessing passwords of an account, or of
many accounts from one address.

After ``signin_free_failures`` failures of one name (``..._per_address`` from one
address) within the window, each further attempt must wait, the wait doubling with each
failure; during a wait sign-ins are refused (429) without the password being checked, and
the person is told how long to wait and what else to do. Every failure is logged with the
name and the address, never the password."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.accounts import invites
from actors.settings import Settings
from actors.store import accounts
from actors.store.models_accounts import SigninFailureRow
from actors.web.keys import SESSIONS
from tests.conftest import ClientFactory
from tests.console.conftest import browser, clock, console, db, settings
from tests.console.helpers import (
    PASSWORD,
    FakeClock,
    Person,
    admin_link,
    console_settings,
    person,
    set_up,
    use_clock,
)
from tests.flows.copub import sqlite_only

__all__ = ["browser", "clock", "console", "db", "settings"]

Sessions = async_sessionmaker[AsyncSession]
WRONG = "a wrong guess of a password"


async def failures(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(SigninFailureRow)) or 0)


async def with_admin(browser: Person, db: Sessions) -> Person:
    await set_up(Person(browser.client, browser.origin), await admin_link(db, "ada"))
    return browser


async def test_ten_wrong_passwords_are_delayed_and_logged(
    browser: Person, db: Sessions, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Five failures cost nothing; from then on each waits twice as long as the last:
    30 s, 1, 2, 4, 8 min; after the tenth, 16 minutes, and even the right password is
    refused until then."""
    await with_admin(browser, db)
    caplog.set_level(logging.INFO)
    waits = []
    for attempt in range(1, 11):
        assert (await browser.sign_in("ada", WRONG)).status == 401, attempt
        if attempt < 5:
            continue
        probe = await browser.sign_in("ada", PASSWORD)
        assert probe.status == 429, attempt
        waits.append(int(probe.headers["Retry-After"]))
        if attempt < 10:
            clock.advance(seconds=waits[-1])
    assert waits == [30, 60, 120, 240, 480, 960]
    assert "Wait 16 minutes" in probe.text
    clock.advance(minutes=15)
    assert (await browser.sign_in("ada", PASSWORD)).status == 429
    clock.advance(minutes=1)
    page = await browser.sign_in("ada", PASSWORD)
    assert page.status == 200
    assert "Your communities" in page.text
    logged = [r for r in caplog.records if r.getMessage() == "failed sign-in"]
    assert len(logged) == 10
    assert {r.username for r in logged} == {"ada"}
    refused = [r for r in caplog.records if r.getMessage().startswith("sign-in refused")]
    assert len(refused) == 7
    assert WRONG not in caplog.text
    assert PASSWORD not in caplog.text


async def test_a_few_failures_cost_nothing_and_a_sign_in_resets_them(
    browser: Person, db: Sessions
) -> None:
    await with_admin(browser, db)
    for _ in range(4):
        assert (await browser.sign_in("ada", WRONG)).status == 401
    assert (await browser.sign_in("ada", PASSWORD)).status == 200
    await browser.sign_out()
    for _ in range(5):
        assert (await browser.sign_in("ada", WRONG)).status == 401
    assert (await browser.sign_in("ada", PASSWORD)).status == 429


async def test_a_waiting_account_is_told_what_to_do(
    browser: Person, db: Sessions, clock: FakeClock
) -> None:
    await with_admin(browser, db)
    for _ in range(10):
        await browser.sign_in("ada", WRONG)
        clock.advance(minutes=20)  # past every wait: ten real failures
    page = await browser.sign_in("ada", WRONG)
    assert page.status == 401
    page = await browser.sign_in("ada", PASSWORD)
    assert page.status == 429
    assert "Wait 32 minutes" in page.text
    assert "ask an admin for a new sign-in link" in page.text
    assert 'value="ada"' in page.text  # the name is kept
    clock.advance(minutes=31)
    assert (await browser.sign_in("ada", PASSWORD)).status == 429
    clock.advance(minutes=1)
    assert (await browser.sign_in("ada", PASSWORD)).status == 200


async def test_an_admins_new_link_lifts_the_wait(
    browser: Person, db: Sessions, clock: FakeClock
) -> None:
    await with_admin(browser, db)
    for _ in range(6):
        await browser.sign_in("ada", WRONG)
    assert (await browser.sign_in("ada", PASSWORD)).status == 429
    async with db.begin() as session:
        row = await accounts.account_named(session, "ada")
        assert row is not None
        link = await invites.setup_link(session, row, valid=timedelta(days=7), now=clock.now())
    fresh = Person(browser.client, browser.origin)
    page = await set_up(fresh, f"/console/setup/{link.token}", "a brand new password")
    assert page.status == 200
    assert "Your communities" in page.text
    assert (await browser.sign_in("ada", "a brand new password")).status == 200


async def test_many_names_from_one_address_wait_too(
    make_client: ClientFactory, database_url: str
) -> None:
    """Guessing across names: the address's own count (unknown names included)."""
    settings: Settings = console_settings(database_url, signin_free_failures_per_address=8)
    client: TestClient[Any, Any] = await make_client(settings)
    use_clock(client)
    guesser = person(client, settings)
    for n in range(8):
        assert (await guesser.sign_in(f"user{n}", WRONG)).status == 401
    page = await guesser.sign_in("user9", WRONG)
    assert page.status == 429
    assert "from your network" in page.text


async def test_unknown_names_answer_like_known_ones(browser: Person, db: Sessions) -> None:
    """No difference tells whether an account exists: same status, same words, and the
    same waits (the failures of an unknown name count as well)."""
    await with_admin(browser, db)
    known = [await browser.sign_in("ada", WRONG) for _ in range(6)]
    unknown = [await browser.sign_in("nobody", WRONG) for _ in range(6)]
    assert [p.status for p in known] == [p.status for p in unknown] == [401] * 5 + [429]
    assert _error(known[0].text) == _error(unknown[0].text)


def _error(text: str) -> str:
    start = text.index('class="error"')
    return text[start : text.index("</p>", start)]


@sqlite_only
async def test_simultaneous_guesses_all_count(browser: Person, db: Sessions) -> None:
    """Guesses sent at the same time are each written as a failure before any password is
    checked: no more than the free ones get checked (SQLite serializes the check)."""
    await with_admin(browser, db)
    await browser.get("/console/signin")
    form = {"username": "ada", "password": WRONG}
    pages = await asyncio.gather(*(browser.post("/console/signin", form) for _ in range(12)))
    statuses = sorted(p.status for p in pages)
    assert statuses == [401] * 5 + [429] * 7
    assert await failures(db) == 5


async def test_a_forged_forwarded_for_gives_no_fresh_address(
    make_client: ClientFactory, database_url: str
) -> None:
    """X-Forwarded-For counts only with ``trust_forwarded_for`` (copub behind a proxy), and
    then its last entry, the one the proxy added: a client's own entries change nothing."""
    for trusted in (False, True):
        settings = console_settings(
            database_url, signin_free_failures_per_address=3, trust_forwarded_for=trusted
        )
        client: TestClient[Any, Any] = await make_client(settings)
        use_clock(client)
        guesser = person(client, settings)
        statuses = []
        for n in range(4):
            await guesser.get("/console/signin")
            page = await guesser.post(
                "/console/signin",
                {"username": f"user{n}{trusted}", "password": WRONG},
                headers={"X-Forwarded-For": f"10.0.0.{n}, 192.0.2.7"},
            )
            statuses.append(page.status)
        assert statuses == [401, 401, 401, 429], trusted
        async with client.app[SESSIONS]() as session:
            addresses = set(await session.scalars(select(SigninFailureRow.address)))
        assert ("192.0.2.7" in addresses) is trusted
