"""`copub discourse check SLUG` says exactly what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.discourse.harness import API_KEY, BOT, SLUG, forum_table
from tests.factories import write_toml
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category
from tests.flows.copub import config_dict, run_cli, sqlite_only
from tests.pg import free_port

pytestmark = sqlite_only


def write_config(tmp_path: Path, database_url: str, table: dict[str, Any]) -> Path:
    raw = config_dict(database_url, 8080)
    raw["adapters"] = ["adapters.discourse"]
    raw["discourse"] = [table]
    path = tmp_path / "copub.toml"
    write_toml(path, raw)
    return path


async def check(tmp_path: Path, database_url: str, table: dict[str, Any]) -> tuple[int, str]:
    config = write_config(tmp_path, database_url, table)
    await run_cli(config, "community", "create", SLUG, "--name", "Night Shift")
    out = await run_cli(config, "discourse", "check", SLUG, ok=False)
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    return len(failed), out


async def test_a_good_connection_passes(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    forum.seed_topics(category, 3)
    failed, out = await check(tmp_path, database_url, forum_table(forum, category))
    assert failed == 0, out
    assert "ok    reached 'Care Forum'" in out
    assert f"ok    the API key is accepted for user '{BOT}'" in out
    assert "ok    category 'Night shift' (id 7, slug 'night-shift'): 3 topics" in out
    assert f"/adapters/discourse/{SLUG}/webhook" in out
    assert f"ready: run `copub discourse sync {SLUG}`" in out


async def test_check_before_the_first_serve_creates_the_configured_community(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    # Given a config declaring the community, and no `serve` (nor `community create`) yet
    raw = config_dict(database_url, 8080)
    raw["adapters"] = ["adapters.discourse"]
    raw["communities"] = [{"slug": SLUG, "name": "Night Shift Nursing"}]
    raw["discourse"] = [forum_table(forum, "night-shift")]
    config = tmp_path / "copub.toml"
    write_toml(config, raw)
    # When the admin runs the check first, as the README's steps go
    out = await run_cli(config, "discourse", "check", SLUG, ok=False)
    # Then the community is created as `serve` would create it, and the check passes
    assert f"created community {SLUG}" in out
    assert f"ok    community '{SLUG}' exists" in out
    assert "FAIL" not in out, out
    out = await run_cli(config, "community", "show", SLUG, ok=False)
    assert "Night Shift Nursing" in out


async def test_a_category_slug_is_found(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    failed, out = await check(tmp_path, database_url, forum_table(forum, "night-shift"))
    assert failed == 0, out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_key": "k-wrong"}, "FAIL  bad key: the forum refused the API key for user"),
        ({"api_username": "nora"}, "FAIL  bad key:"),
        ({"category": 99}, "FAIL  unknown category: '99' does not exist"),
        ({"category": "day-shift"}, "FAIL  unknown category: 'day-shift'"),
    ],
)
async def test_each_mistake_is_named(
    tmp_path: Path,
    database_url: str,
    forum: FakeDiscourse,
    category: Category,
    change: dict[str, Any],
    expected: str,
) -> None:
    failed, out = await check(tmp_path, database_url, {**forum_table(forum, category), **change})
    assert failed == 1, out
    assert expected in out


async def test_read_only_category_is_a_missing_permission(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    category.permission = 3
    failed, out = await check(tmp_path, database_url, forum_table(forum, category))
    assert failed == 1
    assert "FAIL  missing permission: 'copub-bot' can see 'Night shift' but may not reply" in out


async def test_a_scoped_key_without_read_scopes_is_a_missing_permission(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    forum.seed_topics(category, 1)
    forum.add_key(API_KEY, BOT, scopes={"categories:list", "categories:show"})
    failed, out = await check(tmp_path, database_url, forum_table(forum, category))
    assert failed == 1
    assert "FAIL  missing permission: the key may not read the category's topics" in out


async def test_unreachable_host(tmp_path: Path, database_url: str, forum: FakeDiscourse) -> None:
    table = forum_table(forum, "night-shift", base_url=f"http://127.0.0.1:{free_port()}")
    failed, out = await check(tmp_path, database_url, table)
    assert failed == 1
    assert "FAIL  unreachable host: cannot reach http://127.0.0.1:" in out


async def test_private_address_refused_by_policy(
    tmp_path: Path, database_url: str, forum: FakeDiscourse, category: Category
) -> None:
    raw = config_dict(database_url, 8080)
    raw["federation"]["allow_private_addresses"] = False
    raw["adapters"] = ["adapters.discourse"]
    raw["discourse"] = [forum_table(forum, category)]
    config = tmp_path / "copub.toml"
    write_toml(config, raw)
    await run_cli(config, "community", "create", SLUG, "--name", "Night Shift")
    out = await run_cli(config, "discourse", "check", SLUG, ok=False)
    assert "FAIL  unreachable host: 127.0.0.1: refusing to contact non-public address" in out
    # allowed_networks lets an admin trust the forum's own address
    raw["discourse"] = [forum_table(forum, category, allowed_networks=["127.0.0.1/32"])]
    write_toml(config, raw)
    out = await run_cli(config, "discourse", "check", SLUG, ok=False)
    assert "FAIL" not in out, out


async def test_not_configured_and_no_community(tmp_path: Path, database_url: str) -> None:
    raw = config_dict(database_url, 8080)
    path = tmp_path / "plain.toml"
    write_toml(path, raw)
    out = await run_cli(path, "discourse", "check", SLUG, ok=False)
    assert "the Discourse adapter is not enabled" in out
    async with FakeDiscourse() as forum:
        config = write_config(tmp_path, database_url, forum_table(forum, "night-shift"))
        out = await run_cli(config, "discourse", "check", SLUG, ok=False)
    assert f"FAIL  community '{SLUG}' does not exist: create it with" in out
