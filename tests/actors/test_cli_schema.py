"""``copub`` commands check the schema instead of migrating it; the command line stays quiet
and loads only the command it runs."""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import inspect, text

from actors.cli import loading, main
from actors.cli.root import COMMAND_MODULES
from actors.store.db import alembic_config, create_engine
from actors.store.schema import head_revisions, revisions
from tests import factories
from tests.pg import run_sync

ROOT = Path(__file__).resolve().parents[2]
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def copub(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def previous_revision() -> str:
    (head,) = head_revisions()
    previous = ScriptDirectory.from_config(alembic_config("")).get_revision(head).down_revision
    assert isinstance(previous, str)
    return previous


def sql(url: str, statement: str, **params: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return run_sync(run())


def table_names(url: str) -> list[str]:
    async def run() -> list[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await engine.dispose()

    return run_sync(run())


def test_the_scripts_heads_are_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert head_revisions() == frozenset(script.get_heads())
    assert revisions()[0] == {rev.revision for rev in script.walk_revisions()}


def test_every_command_is_in_the_table_of_modules() -> None:
    defined = {
        command.name: module
        for module in set(COMMAND_MODULES.values())
        for command in importlib.import_module(f"actors.cli.{module}").COMMANDS
    }
    assert defined == COMMAND_MODULES


def test_a_command_on_a_schema_behind_stops_and_says_to_migrate(
    tmp_path: Path, database_url: str
) -> None:
    # Given a database one migration behind this code
    config = factories.write_config(tmp_path / "config.toml", database_url)
    assert copub(config, "community", "create", "nightshift", "--name", "Night").exit_code == 0
    (head,) = head_revisions()
    old = previous_revision()
    sql(database_url, "UPDATE alembic_version SET version_num = :r", r=old)
    # When a coordinator publishes, and an operator starts a delivery worker
    for args in (
        ["publish", "nightshift", "story", "--title", "Handover", "--content", "Notes"],
        ["worker"],
        ["deliveries"],
    ):
        result = copub(config, *args)
        # Then each stops with the reason and what to do, and changes nothing
        assert result.exit_code == 1, (args, result.output)
        assert result.output == (
            f"Error: the schema is at revision {old}; this copub needs {head} (run copub migrate)\n"
        )
    assert sql(database_url, "SELECT version_num FROM alembic_version") == [(old,)]
    assert sql(database_url, "SELECT count(*) FROM activities") == [(0,)]
    # And once migrated, the command runs
    sql(database_url, "UPDATE alembic_version SET version_num = :r", r=head)
    assert copub(config, "deliveries").exit_code == 0


def test_a_command_on_an_empty_database_creates_no_tables(
    tmp_path: Path, empty_database_url: str
) -> None:
    config = factories.write_config(tmp_path / "config.toml", empty_database_url)
    result = copub(config, "community", "list")
    assert result.exit_code == 1
    assert result.output == "Error: the database has no schema yet (run copub migrate)\n"
    assert table_names(empty_database_url) == []
    assert copub(config, "migrate").exit_code == 0
    assert copub(config, "community", "list").exit_code == 0


@sqlite_only
def test_a_schema_newer_than_the_code_is_named(tmp_path: Path, database_url: str) -> None:
    config = factories.write_config(tmp_path / "config.toml", database_url)
    sql(database_url, "UPDATE alembic_version SET version_num = '9999'")
    result = copub(config, "community", "list")
    assert result.exit_code == 1
    assert "at revision 9999, which this copub does not know" in result.output


@sqlite_only
def test_commands_log_nothing_unless_verbose(tmp_path: Path, database_url: str) -> None:
    # A real process: the logging of a command, and what it imports, as an operator runs it
    config = factories.write_config(tmp_path / "config.toml", database_url)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "actors.cli", "--config", str(config), *args]
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    created = run("community", "create", "nightshift", "--name", "Night")
    assert created.stderr == ""
    assert "created @nightshift@" in created.stdout
    published = run("publish", "nightshift", "story", "--title", "Handover", "--content", "Hi")
    assert published.stderr == ""
    assert published.stdout.startswith("published ")
    verbose = run("-v", "community", "show", "nightshift")
    assert " DEBUG " in verbose.stderr or " INFO " in verbose.stderr
    # a refusal: its message and exit status 1, through the process's quick exit
    argv = [sys.executable, "-m", "actors.cli", "--config", str(config), "community", "show", "x"]
    refused = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert (refused.returncode, refused.stdout, refused.stderr) == (
        1,
        "",
        "Error: no community named 'x'\n",
    )


def test_a_command_loads_only_its_own_module() -> None:
    # The publish command, in a fresh interpreter: no web app, no Alembic, no HTTP client,
    # no PostgreSQL dialect (its package loads every driver's module)
    unused = (
        "aiohttp",
        "alembic",
        "actors.web.app",
        "actors.cli.server",
        "actors.cli.deliveries",
        "sqlalchemy.dialects.postgresql",
    )
    probe = (
        "import sys\n"
        "from actors.cli import main\n"
        "main.get_command(None, 'publish')\n"
        f"print(sorted(m for m in {unused!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_collector_pauses_only_while_a_command_loads() -> None:
    assert gc.isenabled()
    with loading():
        assert not gc.isenabled()
    assert gc.isenabled()  # a server's own collections are untouched (actors/heap.py)
    gc.disable()
    try:
        with loading():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
