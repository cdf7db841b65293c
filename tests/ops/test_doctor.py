"""``copub doctor``: all fine on a fresh setup (a running copub on loopback), and the problem
named, exit status 1, in each broken one: the database unreachable, the schema behind,
base_url not answering, a community's key missing or corrupt, the clock far off."""

from __future__ import annotations

import asyncio
import email.utils
import re
import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

from actors.cli import main as copub_main
from actors.store.db import alembic_config
from federation.clock import utcnow
from tests import factories
from tests.flows.copub import Copub, sqlite_only, start_copub
from tests.pg import free_port

CHECKS = ["config", "database", "schema", "keys", "base_url", "clock"]
Report = dict[str, tuple[str, str]]


@pytest.fixture
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[Copub]:
    """A fresh setup: copub serving on a loopback port, one community made by the CLI."""
    copub = await start_copub(database_url, tmp_path)
    try:
        await copub.create_community("nightshift")
        yield copub
    finally:
        await copub.server.close()
    assert not copub.errors, f"copub answered with server errors: {copub.errors}"


async def doctor(config: Path) -> tuple[int, Report]:
    """Run ``copub doctor``: its exit status and each check's (mark, detail)."""
    argv = ["--config", str(config), "doctor", "--timeout", "3"]
    result = await asyncio.to_thread(CliRunner().invoke, copub_main, argv)
    report: Report = {}
    for line in result.output.splitlines():
        mark, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition(": ")
        report[name] = (mark, detail)
    assert list(report) == CHECKS, result.output
    return result.exit_code, report


def running_config(copub: Copub, tmp_path: Path, **changes: dict[str, Any]) -> Path:
    """The running copub's config with ``section={key: value}`` changed."""
    raw = tomllib.loads(copub.config_file.read_text(encoding="utf-8"))
    for section, values in changes.items():
        raw.setdefault(section, {}).update(values)
    return factories.write_toml(tmp_path / f"broken-{free_port()}.toml", raw)


def problems(report: Report) -> list[str]:
    return [name for name, (mark, _detail) in report.items() if mark == "PROBLEM"]


async def test_a_fresh_setup_is_fine(running: Copub) -> None:
    status, report = await doctor(running.config_file)
    assert status == 0, report
    assert {mark for mark, _detail in report.values()} == {"OK"}
    assert report["config"][1] == f"read {running.config_file}"
    assert report["base_url"][1] == f"{running.actor('nightshift')} answers with its actor document"


@sqlite_only
async def test_database_unreachable(running: Copub, tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://copub:secret@127.0.0.1:{free_port()}/copub"
    config = running_config(running, tmp_path, database={"url": url})
    status, report = await doctor(config)
    assert (status, problems(report)) == (1, ["database"])
    assert "cannot be reached" in report["database"][1]
    assert "secret" not in report["database"][1]
    assert report["schema"][0] == report["keys"][0] == "SKIPPED"
    assert report["base_url"][0] == "OK"  # the Application actor, asked without a database


async def test_schema_behind(running: Copub) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(""))
    head = scripts.get_revision(scripts.get_current_head() or "")
    assert head is not None
    assert isinstance(head.down_revision, str)
    async with running.sessions.begin() as session:
        await session.execute(
            text("UPDATE alembic_version SET version_num = :rev"), {"rev": head.down_revision}
        )
    status, report = await doctor(running.config_file)
    assert (status, problems(report)) == (1, ["schema"])
    assert head.down_revision in report["schema"][1]
    assert "copub migrate" in report["schema"][1]


@sqlite_only
async def test_base_url_not_answering(running: Copub, tmp_path: Path) -> None:
    config = running_config(
        running, tmp_path, server={"base_url": f"http://127.0.0.1:{free_port()}"}
    )
    status, report = await doctor(config)
    assert (status, problems(report)) == (1, ["base_url"])
    assert "failed" in report["base_url"][1]
    assert "copub serve running" in report["base_url"][1]
    assert report["clock"][0] == "SKIPPED"


async def test_a_community_key_missing_or_corrupt(running: Copub) -> None:
    await running.create_community("pharmacy")
    async with running.sessions.begin() as session:
        await session.execute(
            text("UPDATE communities SET private_key_pem = :pem WHERE slug = 'nightshift'"),
            {"pem": "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"},
        )
        await session.execute(
            text("UPDATE communities SET private_key_pem = '' WHERE slug = 'pharmacy'")
        )
    status, report = await doctor(running.config_file)
    assert (status, problems(report)) == (1, ["keys"])
    detail = report["keys"][1]
    assert "community 'nightshift' has a private key that does not parse" in detail
    assert "community 'pharmacy' has no private key" in detail
    assert "backup" in detail


@sqlite_only
async def test_clock_far_off(running: Copub, tmp_path: Path) -> None:
    # Given a server at base_url whose Date is ten minutes ahead of this clock
    async def actor(request: web.Request) -> web.Response:
        ahead = email.utils.format_datetime(utcnow() + timedelta(minutes=10), usegmt=True)
        document = {"id": f"{base}{request.path}", "type": "Group"}
        return web.json_response(document, content_type="application/activity+json",
                                 headers={"Date": ahead})  # fmt: skip

    app = web.Application()
    app.router.add_get("/c/{slug}", actor)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        config = running_config(running, tmp_path, server={"base_url": base})
        status, report = await doctor(config)
    finally:
        await server.close()
    # Then the clock is the problem, and by how much
    assert (status, problems(report)) == (1, ["clock"])
    found = re.search(r"this clock is (\d+) s behind the server's", report["clock"][1])
    assert found is not None, report["clock"]
    assert 595 <= int(found[1]) <= 600
