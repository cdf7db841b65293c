"""The ``copub`` command, run through click's CliRunner on the test database (sync tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy.engine import make_url

from actors.cli import main
from tests import factories
from tests.pg import PostgresServer


@pytest.fixture
def copub(config_file: Path):
    """``copub(*args)``: run the CLI with ``--config`` pointing at the test database."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(config_file), *args])

    return run


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate(tmp_path: Path, empty_database_url: str) -> None:
    config = factories.write_config(tmp_path / "config.toml", empty_database_url)
    output = ok(CliRunner().invoke(main, ["--config", str(config), "migrate"]))
    assert output == f"database up to date: {empty_database_url}\n"  # no password to hide
    assert factories.community_rows_sync(empty_database_url) == []
    ok(CliRunner().invoke(main, ["--config", str(config), "migrate"]))  # nothing to do: fine


@pytest.mark.postgres
def test_migrate_hides_the_password(tmp_path: Path, pg_server: PostgresServer) -> None:
    if pg_server.admin_url.password:
        pytest.skip("the server needs its real password; this test relies on trust auth")
    name = pg_server.create_database()
    try:
        url = make_url(pg_server.url_for(name)).set(password="s3cret")  # trust auth ignores it
        config = factories.write_config(
            tmp_path / "config.toml", url.render_as_string(hide_password=False)
        )
        output = ok(CliRunner().invoke(main, ["--config", str(config), "migrate"]))
    finally:
        pg_server.drop_database(name)
    assert "s3cret" not in output
    assert f"postgres:***@127.0.0.1:{pg_server.port}/{name}" in output


def test_create_prints_handle_and_url(copub, database_url: str) -> None:
    output = ok(
        copub(
            "community",
            "create",
            "nightshift",
            "--name",
            "Night Shift Nursing",
            "--summary",
            "Safe medication at night shifts.",
        )
    )
    assert output.strip() == "created @nightshift@cop.test at https://cop.test/c/nightshift"
    [row] = factories.community_rows_sync(database_url)
    assert row["slug"] == "nightshift"
    assert row["name"] == "Night Shift Nursing"
    assert row["summary"] == "Safe medication at night shifts."
    assert row["closed"] is False


def test_create_closed(copub, database_url: str) -> None:
    ok(copub("community", "create", "nightshift", "--name", "N", "--closed"))
    [row] = factories.community_rows_sync(database_url)
    assert row["closed"] is True


def test_duplicate_create_fails_and_changes_nothing(copub, database_url: str) -> None:
    ok(copub("community", "create", "nightshift", "--name", "Night Shift Nursing"))
    before = factories.community_rows_sync(database_url)
    result = copub("community", "create", "nightshift", "--name", "Impostor", "--closed")
    assert result.exit_code != 0
    assert "community 'nightshift' already exists; nothing changed" in result.output
    assert "Traceback" not in result.output
    assert factories.community_rows_sync(database_url) == before


@pytest.mark.parametrize("slug", ["Night", "night-shift", "_night", "a" * 64])
def test_invalid_slug(copub, database_url: str, slug: str) -> None:
    result = copub("community", "create", slug, "--name", "N")
    assert result.exit_code != 0
    assert f"invalid slug {slug!r}" in result.output
    assert "lowercase letters, digits" in result.output
    assert factories.community_rows_sync(database_url) == []


def test_blank_name(copub, database_url: str) -> None:
    result = copub("community", "create", "nightshift", "--name", "   ")
    assert result.exit_code != 0
    assert "needs a name" in result.output
    assert factories.community_rows_sync(database_url) == []


def test_list(copub) -> None:
    assert ok(copub("community", "list")) == ""
    ok(copub("community", "create", "nightshift", "--name", "Night Shift Nursing", "--closed"))
    ok(copub("community", "create", "dayshift", "--name", "Day Shift"))
    lines = ok(copub("community", "list")).splitlines()
    assert lines == [
        "dayshift\t@dayshift@cop.test\tDay Shift",
        "nightshift\t@nightshift@cop.test\tNight Shift Nursing (closed)",
    ]


def test_show(copub) -> None:
    ok(
        copub(
            "community",
            "create",
            "nightshift",
            "--name",
            "Night Shift Nursing",
            "--summary",
            "Safe medication at night shifts.",
        )
    )
    output = ok(copub("community", "show", "nightshift"))
    assert "name:      Night Shift Nursing" in output
    assert "handle:    @nightshift@cop.test" in output
    assert "actor:     https://cop.test/c/nightshift" in output
    assert "closed:    no" in output
    assert "domain:    Safe medication at night shifts." in output


def test_show_json_is_the_actor_document(copub) -> None:
    ok(copub("community", "create", "nightshift", "--name", "Night Shift Nursing"))
    doc = json.loads(ok(copub("community", "show", "nightshift", "--json")))
    assert doc["type"] == "Group"
    assert doc["id"] == "https://cop.test/c/nightshift"
    assert doc["preferredUsername"] == "nightshift"
    load_pem_public_key(doc["publicKey"]["publicKeyPem"].encode())
    assert "PRIVATE" not in json.dumps(doc)


def test_show_unknown(copub) -> None:
    result = copub("community", "show", "nobody")
    assert result.exit_code != 0
    assert "no community named 'nobody'" in result.output


def test_config_error_is_a_clear_message(tmp_path: Path, database_url: str) -> None:
    config = factories.write_config(tmp_path / "bad.toml", database_url, extra="[server2]\n")
    result = CliRunner().invoke(main, ["--config", str(config), "community", "list"])
    assert result.exit_code != 0
    assert f"{config}: unknown key 'server2'" in result.output
    assert "Traceback" not in result.output


def test_copub_config_env_is_used(
    config_file: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COPUB_CONFIG", str(config_file))
    result = CliRunner().invoke(main, ["community", "create", "nightshift", "--name", "N"])
    assert ok(result).startswith("created @nightshift@cop.test")
    assert [r["slug"] for r in factories.community_rows_sync(database_url)] == ["nightshift"]
