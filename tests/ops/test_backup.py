"""``copub backup PATH``: a SQLite copy that opens and holds the communities, made while the
server runs; never over an existing file; on PostgreSQL the pg_dump command instead."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from actors.cli import main as copub_main
from tests import factories
from tests.flows.copub import Copub, sqlite_only, start_copub


def communities_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [slug for (slug,) in db.execute("SELECT slug FROM communities ORDER BY slug")]


@sqlite_only
async def test_a_running_servers_database_copied(database_url: str, tmp_path: Path) -> None:
    copub: Copub = await start_copub(database_url, tmp_path)
    try:
        await copub.create_community("nightshift")
        await copub.create_community("pharmacy")
        target = tmp_path / "backups" / "copub-1.sqlite3"
        target.parent.mkdir()
        out = await copub.cli("backup", str(target))
        assert out.startswith(f"backed up the database to {target} (")
        assert communities_in(target) == ["nightshift", "pharmacy"]
        assert not target.with_name(target.name + ".partial").exists()
        # a second copy never goes over the first
        again = await copub.cli("backup", str(target), ok=False)
        assert "exists already" in again
    finally:
        await copub.server.close()


def test_postgresql_gets_the_pg_dump_command(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://copub:s3cret@db.example:5433/copub"
    config = factories.write_config(tmp_path / "config.toml", url)
    result = CliRunner().invoke(copub_main, ["--config", str(config), "backup", "/srv/copub.dump"])
    assert result.exit_code == 1
    assert (
        "pg_dump --format=custom --file /srv/copub.dump postgresql://copub@db.example:5433/copub"
        in result.output
    )
    assert "copub backup copies SQLite databases" in result.output
    assert "s3cret" not in result.output


async def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sqlite3"
    config = factories.write_config(tmp_path / "config.toml", f"sqlite+aiosqlite:///{missing}")
    argv = ["--config", str(config), "backup", str(tmp_path / "copy.sqlite3")]
    result = await asyncio.to_thread(CliRunner().invoke, copub_main, argv)
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not missing.exists()
    assert not (tmp_path / "copy.sqlite3").exists()
