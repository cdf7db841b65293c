"""The Tokens page: tokens for the authoring API made (shown once), listed and revoked in
the console, as ``copub token create|list|revoke`` does (the CLI sees the console's tokens
and the console the CLI's), each action in the audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.settings import Settings
from actors.store import tokens
from actors.store.models_accounts import AuditRow
from actors.store.models_practice import TokenRow
from tests import factories
from tests.console.helpers import audit_actions, coordinator
from tests.flows.copub import run_cli

Sessions = async_sessionmaker[AsyncSession]
TOKEN_RE = re.compile(r'<code id="new-token"[^>]*>(copub_[A-Za-z0-9_-]+)</code>')
STORY = {"type": "Note", "name": "Handover at 7", "content": "What we checked."}


async def publish(console: TestClient[Any, Any], token: str) -> int:
    headers = {"Content-Type": "application/activity+json", "Authorization": f"Bearer {token}"}
    async with console.post("/c/nightshift/outbox", data=json.dumps(STORY), headers=headers) as r:
        return r.status


async def token_rows(db: Sessions) -> list[tuple[int, int, str]]:
    async with db() as session:
        rows = await session.scalars(select(TokenRow).order_by(TokenRow.id))
        return [(row.id, row.community_id, row.label) for row in rows]


async def test_a_token_is_shown_once_works_and_is_revoked(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.get("/console/c/nightshift/tokens")
    assert page.status == 200
    assert "No tokens." in page.text
    page = await alice.post("/console/c/nightshift/tokens", {"label": "Newsletter script"})
    assert page.status == 200
    found = TOKEN_RE.search(page.text)
    assert found, page.text
    secret = found.group(1)
    assert 'data-copy="new-token"' in page.text
    assert "/static/copy-value.js" in page.text
    [(token_id, community_id, label)] = await token_rows(db)
    assert (community_id, label) == (nightshift.id, "Newsletter script")
    # the token is the authoring API's: it publishes, and only its hash is kept
    assert await publish(console, secret) == 201
    async with db() as session:
        row = await session.get(TokenRow, token_id)
        assert row is not None
        assert row.token_hash == tokens.token_hash(secret)
    # listed (with its use) but never shown again; the CLI lists it too
    page = await alice.get("/console/c/nightshift/tokens")
    assert "Newsletter script" in page.text
    assert "last used" in page.text
    assert secret not in page.text
    listed = await run_cli(config_file, "token", "list", "nightshift")
    assert f"{token_id}\tNewsletter script\t" in listed
    # revoked: it stops working at once
    page = await alice.post(f"/console/c/nightshift/tokens/{token_id}/revoke")
    assert page.status == 200
    assert "Token revoked" in page.text
    assert await token_rows(db) == []
    assert await publish(console, secret) == 401
    actions = [action for who, action in await audit_actions(db) if who == "alice"]
    assert [a for a in actions if a.startswith("token.")] == ["token.create", "token.revoke"]
    async with db() as session:
        entry = await session.scalar(select(AuditRow).where(AuditRow.action == "token.create"))
    assert entry is not None
    assert entry.community_slug == "nightshift"
    assert entry.detail == f"token {token_id} Newsletter script"
    assert secret not in entry.detail


async def test_a_cli_token_is_listed_and_revoked_in_the_console(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    out = await run_cli(config_file, "token", "create", "nightshift", "--label", "Calendar")
    secret = out.splitlines()[0].strip()
    alice = await coordinator(console, settings, db, nightshift.id)
    page = await alice.get("/console/c/nightshift/tokens")
    [(token_id, _, _)] = await token_rows(db)
    assert f"Token {token_id}</strong> · Calendar" in page.text
    await alice.post(f"/console/c/nightshift/tokens/{token_id}/revoke")
    assert await publish(console, secret) == 401
    assert "no tokens" in await run_cli(config_file, "token", "list", "nightshift")


async def test_a_label_too_long_comes_back_with_its_error(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get("/console/c/nightshift/tokens")
    label = "x" * 201
    page = await alice.post("/console/c/nightshift/tokens", {"label": label})
    assert page.status == 400
    assert 'id="f-label-error"' in page.text
    assert f'value="{label}"' in page.text
    assert not TOKEN_RE.search(page.text)
    assert await token_rows(db) == []
    assert "token.create" not in [action for _, action in await audit_actions(db)]


async def test_revoking_an_unknown_token_changes_nothing(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    alice = await coordinator(console, settings, db, nightshift.id)
    await alice.get("/console/c/nightshift/tokens")
    page = await alice.post("/console/c/nightshift/tokens/999/revoke")
    assert page.status == 404
    beyond_int4 = await alice.post("/console/c/nightshift/tokens/99999999999/revoke")
    assert beyond_int4.status == 404
    assert "token.revoke" not in [action for _, action in await audit_actions(db)]


async def test_another_communitys_coordinator_gets_403_and_changes_nothing(
    console: TestClient[Any, Any], settings: Settings, db: Sessions
) -> None:
    nightshift = await factories.create_community(db, "nightshift")
    pharmacy = await factories.create_community(db, "pharmacy")
    async with db.begin() as session:
        row, _secret = await tokens.create_token(session, nightshift.id, "Nightshift's")
        token_id = row.id
    bob = await coordinator(console, settings, db, pharmacy.id, "bob")
    page = await bob.get("/console/c/nightshift/tokens")
    assert page.status == 403
    assert "Nightshift's" not in page.text
    await bob.get("/console/c/pharmacy/tokens")  # a page of his own, for a form token
    assert (await bob.post("/console/c/nightshift/tokens", {"label": "mine"})).status == 403
    page = await bob.post(f"/console/c/nightshift/tokens/{token_id}/revoke")
    assert page.status == 403
    # nor through his own community's address
    assert (await bob.post(f"/console/c/pharmacy/tokens/{token_id}/revoke")).status == 404
    assert await token_rows(db) == [(token_id, nightshift.id, "Nightshift's")]
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(TokenRow)) == 1
