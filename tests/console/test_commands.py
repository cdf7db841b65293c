"""The console's commands: ``copub admin create|reset``, ``copub coordinator invite``, and
the first admin's setup link ``copub serve`` (``make run``) prints while no admin has
set up the console. Each link is used in the real app on the same database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.cli import server
from actors.cli.server import _seed
from actors.settings import load_settings
from actors.store import accounts
from tests import factories
from tests.console.helpers import PASSWORD, Person, audit_actions, set_up
from tests.flows.copub import run_cli

Sessions = async_sessionmaker[AsyncSession]
LINK = re.compile(r"https://cop\.test(/console/(?:setup|invite)/[A-Za-z0-9_-]+)")


def link_in(output: str) -> str:
    found = LINK.search(output)
    assert found, output
    return found.group(1)


async def test_admin_create_prints_a_setup_link(
    config_file: Path, browser: Person, db: Sessions
) -> None:
    output = await run_cli(config_file, "admin", "create", "Ada")
    assert "admin ada created" in output
    page = await set_up(browser, link_in(output))
    assert page.status == 200
    assert "Signed in as <strong>ada</strong> (admin)" in page.text
    again = await run_cli(config_file, "admin", "create", "ada", ok=False)
    assert "exists already" in again
    assert "copub admin reset ada" in again
    assert ("(command line)", "admin.create") in await audit_actions(db)


async def test_admin_create_refuses_a_bad_name(config_file: Path, db: Sessions) -> None:
    output = await run_cli(config_file, "admin", "create", "no spaces please", ok=False)
    assert "letters" in output
    async with db() as session:
        assert await accounts.count_accounts(session) == 0


async def test_admin_reset_replaces_the_password(
    config_file: Path, browser: Person, db: Sessions
) -> None:
    await set_up(browser, link_in(await run_cli(config_file, "admin", "create", "ada")))
    first = link_in(await run_cli(config_file, "admin", "reset", "ada"))
    second = link_in(await run_cli(config_file, "admin", "reset", "ada"))
    assert (await Person(browser.client, browser.origin).get(first)).status == 410
    fresh = Person(browser.client, browser.origin)
    assert (await set_up(fresh, second, "a brand new password")).status == 200
    assert (await browser.get("/console", follow=False)).status == 303  # sessions ended
    assert (await browser.sign_in("ada", PASSWORD)).status == 401
    assert (await browser.sign_in("ada", "a brand new password")).status == 200
    missing = await run_cli(config_file, "admin", "reset", "nobody", ok=False)
    assert "no account named 'nobody'" in missing


async def test_coordinator_invite_prints_an_invitation(
    config_file: Path, browser: Person, db: Sessions
) -> None:
    await factories.create_community(db)
    output = await run_cli(config_file, "coordinator", "invite", "nightshift")
    assert "coordinator of nightshift (once, until " in output
    invite = link_in(output)
    await browser.get(invite)
    page = await browser.post(
        invite, {"username": "nora", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert page.url == "/console/c/nightshift"
    unknown = await run_cli(config_file, "coordinator", "invite", "nope", ok=False)
    assert "no community named 'nope'" in unknown


async def test_serve_prints_the_first_admins_link_until_one_is_set_up(
    config_file: Path, browser: Person, db: Sessions
) -> None:
    settings = load_settings(config_file)
    _created, first = await _seed(settings)
    _created, second = await _seed(settings)
    assert first is not None
    assert second is not None
    assert first != second
    assert (await browser.get(link_in(first))).status == 410  # a restart replaces it
    async with db() as session:
        assert await accounts.count_accounts(session) == 1  # the same admin, not a second
    assert (await set_up(browser, link_in(second))).status == 200
    assert "Signed in as <strong>admin</strong>" in (await browser.get("/console")).text
    _created, third = await _seed(settings)
    assert third is None


async def test_serve_prints_the_link_next_to_the_handles(
    config_file: Path, browser: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``make run`` shows a newcomer: the console's address and the link into it."""
    monkeypatch.setattr(server.web, "run_app", lambda *_args, **_kwargs: None)
    output = await run_cli(config_file, "serve")
    assert "console at https://cop.test/console" in output
    assert "No admin has set up the console yet" in output
    assert (await set_up(browser, link_in(output))).status == 200
    assert "No admin" not in await run_cli(config_file, "serve")
