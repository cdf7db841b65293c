"""Passkeys: a signed-in person registers one (a real attestation from a software
authenticator), then signs in with it instead of a password, or after the password when
their account asks for it. Wrong origins, replayed ceremonies, unknown keys fail with a
4xx and sign nobody in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.accounts import invites
from actors.settings import Settings
from actors.store import accounts
from actors.store.models_accounts import PasskeyRow
from actors.web.keys import SESSIONS
from tests.conftest import ClientFactory
from tests.console.authenticator import Authenticator, b64url
from tests.console.helpers import PASSWORD, Person, admin_link, console_settings, person, set_up

Sessions = async_sessionmaker[AsyncSession]
BASE = "https://cop.test"
SESSION = "__Host-copub_session"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return console_settings(database_url, base_url=BASE)


def db_of(client: TestClient[Any, Any]) -> Sessions:
    return client.app[SESSIONS]  # type: ignore[no-any-return]


async def signed_in(client: TestClient[Any, Any], settings: Settings) -> Person:
    someone = person(client, settings)
    await set_up(someone, await admin_link(db_of(client), "ada"))
    await someone.get("/console/account")
    return someone


async def register(someone: Person, key: Authenticator, name: str = "My phone") -> tuple[int, Any]:
    status, started = await someone.post_json("/console/passkeys/options", {})
    assert status == 200, started
    assert started["options"]["rp"]["id"] == "cop.test"
    credential = key.create(started["options"])
    return await someone.post_json(
        "/console/passkeys",
        {"ceremony": started["ceremony"], "credential": credential, "name": name},
    )


async def passkey_sign_in(someone: Person, key: Authenticator, **answer: Any) -> tuple[int, Any]:
    await someone.get("/console/signin")
    status, started = await someone.post_json("/console/signin/passkey/options", {})
    assert status == 200, started
    return await someone.post_json(
        "/console/signin/passkey",
        {"ceremony": started["ceremony"], "credential": key.get(started["options"], **answer)},
    )


async def test_register_then_sign_in_with_the_passkey(
    console: TestClient[Any, Any], settings: Settings
) -> None:
    ada = await signed_in(console, settings)
    key = Authenticator("cop.test", BASE)
    status, done = await register(ada, key)
    assert status == 200, done
    page = await ada.get("/console/account")
    assert "My phone" in page.text
    async with db_of(console)() as session:
        [row] = (await session.scalars(select(PasskeyRow))).all()
    assert row.sign_count == 0
    assert row.transports == ["internal"]

    phone = person(console, settings)
    status, done = await passkey_sign_in(phone, key)
    assert status == 200, done
    assert done["redirect"] == "/console", done
    assert SESSION in phone.cookies
    assert "Signed in as <strong>ada</strong>" in (await phone.get("/console")).text
    async with db_of(console)() as session:
        assert (await session.scalar(select(PasskeyRow.sign_count))) == 1


async def test_a_wrong_origin_or_relying_party_signs_nobody_in(
    console: TestClient[Any, Any], settings: Settings
) -> None:
    ada = await signed_in(console, settings)
    key = Authenticator("cop.test", BASE)
    assert (await register(ada, key))[0] == 200
    for answer in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        phishing = person(console, settings)
        status, body = await passkey_sign_in(phishing, key, **answer)
        assert status == 400, answer
        assert "error" in body, answer
        assert SESSION not in phishing.cookies


async def test_an_unknown_passkey_or_a_replay_signs_nobody_in(
    console: TestClient[Any, Any], settings: Settings
) -> None:
    ada = await signed_in(console, settings)
    key = Authenticator("cop.test", BASE)
    assert (await register(ada, key))[0] == 200
    stranger = person(console, settings)
    status, body = await passkey_sign_in(stranger, Authenticator("cop.test", BASE))
    assert status == 400
    assert "not registered" in body["error"]

    thief = person(console, settings)
    await thief.get("/console/signin")
    _status, started = await thief.post_json("/console/signin/passkey/options", {})
    answer = {"ceremony": started["ceremony"], "credential": key.get(started["options"])}
    assert (await thief.post_json("/console/signin/passkey", answer))[0] == 200
    replay = person(console, settings)
    await replay.get("/console/signin")
    status, body = await replay.post_json("/console/signin/passkey", answer)
    assert status == 400
    assert SESSION not in replay.cookies


async def test_passkey_after_the_password(
    console: TestClient[Any, Any], settings: Settings
) -> None:
    """With the second factor on, the right password leads to the passkey step, not into
    the console; the passkey then signs in."""
    ada = await signed_in(console, settings)
    key = Authenticator("cop.test", BASE)
    assert (await register(ada, key))[0] == 200
    await ada.get("/console/account")
    page = await ada.post("/console/passkeys/second-factor", {"enable": "1"})
    assert "A passkey is asked for after your password." in page.text

    laptop = person(console, settings)
    page = await laptop.sign_in("ada", PASSWORD)
    assert page.url.startswith("/console/signin/second-factor"), page.url
    assert SESSION not in laptop.cookies
    assert (await laptop.get("/console", follow=False)).status == 303
    status, started = await laptop.post_json("/console/signin/passkey/options", {})
    assert status == 200
    assert started["ceremony"] is None
    allowed = [c["id"] for c in started["options"]["allowCredentials"]]
    assert allowed == [b64url(key.credential_id)]
    status, done = await laptop.post_json(
        "/console/signin/passkey", {"credential": key.get(started["options"])}
    )
    assert status == 200, done
    assert "Signed in as <strong>ada</strong>" in (await laptop.get("/console")).text

    # another account's passkey does not do for ada's second step
    other_key = Authenticator("cop.test", BASE)
    bob = person(console, settings)
    await set_up(bob, await admin_link(db_of(console), "bob"))
    await bob.get("/console/account")
    assert (await register(bob, other_key))[0] == 200
    again = person(console, settings)
    await again.sign_in("ada", PASSWORD)
    _status, started = await again.post_json("/console/signin/passkey/options", {})
    status, _body = await again.post_json(
        "/console/signin/passkey", {"credential": other_key.get(started["options"])}
    )
    assert status == 400
    assert SESSION not in again.cookies


async def test_malformed_answers_are_4xx(console: TestClient[Any, Any], settings: Settings) -> None:
    ada = await signed_in(console, settings)
    _status, started = await ada.post_json("/console/passkeys/options", {})
    garbled = {"clientDataJSON": "!!", "attestationObject": "??"}
    for credential in (
        None,
        "x",
        [],
        {"id": "x"},
        {"response": "x"},
        {"id": "a", "response": {}},
        {"id": "a", "rawId": "a", "type": "public-key", "response": garbled},
    ):
        status, body = await ada.post_json(
            "/console/passkeys", {"ceremony": started["ceremony"], "credential": credential}
        )
        assert 400 <= status < 500, credential
        assert "error" in body, credential


async def test_no_passkeys_on_an_ip_address(make_client: ClientFactory, database_url: str) -> None:
    """Browsers refuse WebAuthn on an IP address: the console offers no passkeys there."""
    settings = console_settings(database_url, base_url="http://127.0.0.1:8080")
    client: TestClient[Any, Any] = await make_client(settings)
    someone = await signed_in(client, settings)
    page = await someone.get("/console/account")
    assert "data-passkey" not in page.text
    assert "not on an IP address" in page.text
    status, _body = await someone.post_json("/console/passkeys/options", {})
    assert status == 404


async def test_an_admins_new_link_lets_in_someone_who_lost_their_passkey(
    console: TestClient[Any, Any], settings: Settings
) -> None:
    ada = await signed_in(console, settings)
    assert (await register(ada, Authenticator("cop.test", BASE)))[0] == 200
    await ada.get("/console/account")
    await ada.post("/console/passkeys/second-factor", {"enable": "1"})
    async with db_of(console).begin() as session:
        row = await accounts.account_named(session, "ada")
        assert row is not None
        link = await invites.setup_link(
            session, row, valid=timedelta(days=7), now=datetime.now(UTC)
        )
    back = person(console, settings)
    page = await set_up(back, f"/console/setup/{link.token}", "a brand new password")
    assert "Signed in as <strong>ada</strong>" in page.text
    again = person(console, settings)
    assert (await again.sign_in("ada", "a brand new password")).url == "/console"
