"""``copub moderators add|remove|list``: coordinators, as the CLI and the Group show them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner, Result

from actors.cli import main
from tests.actors.test_pages import get_page
from tests.factories import write_config
from tests.pages.builders import actor_url

ALICE = actor_url("alice")
BOB = actor_url("bob", "other.example")


def copub(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    path = write_config(tmp_path / "config.toml", database_url)
    assert copub(path, "community", "create", "nightshift", "--name", "Night").exit_code == 0
    return path


def test_add_list_remove(config: Path) -> None:
    assert copub(config, "moderators", "list", "nightshift").output == (
        "nightshift has no coordinators yet; add one with: copub moderators add nightshift URL\n"
    )
    added = copub(config, "moderators", "add", "nightshift", ALICE)
    assert added.exit_code == 0
    assert added.output == f"{ALICE} is now a coordinator of nightshift\n"
    assert copub(config, "moderators", "add", "nightshift", BOB).exit_code == 0
    again = copub(config, "moderators", "add", "nightshift", ALICE)
    assert (again.exit_code, again.output) == (
        0,
        f"{ALICE} already coordinates nightshift; nothing changed\n",
    )
    assert copub(config, "moderators", "list", "nightshift").output == f"{ALICE}\n{BOB}\n"
    removed = copub(config, "moderators", "remove", "nightshift", ALICE)
    assert (removed.exit_code, removed.output) == (0, f"{ALICE} no longer coordinates nightshift\n")
    assert copub(config, "moderators", "list", "nightshift").output == f"{BOB}\n"


def test_remove_someone_who_is_not_a_coordinator(config: Path) -> None:
    result = copub(config, "moderators", "remove", "nightshift", ALICE)
    assert result.exit_code == 1
    assert f"{ALICE} is not a coordinator of nightshift" in result.output


@pytest.mark.parametrize(
    "value", ["@alice@social.example", "alice", "ftp://x.example/a", "https://"]
)
def test_actor_must_be_a_url(config: Path, value: str) -> None:
    result = copub(config, "moderators", "add", "nightshift", value)
    assert result.exit_code == 2
    assert "give the actor's URL" in result.output


def test_unknown_community(config: Path) -> None:
    for args in (("add", "nobody", ALICE), ("remove", "nobody", ALICE), ("list", "nobody")):
        result = copub(config, "moderators", *args)
        assert result.exit_code == 1
        assert "no community named 'nobody'" in result.output


async def test_coordinators_show_in_the_group_and_on_the_page(
    config: Path, client: TestClient[Any, Any]
) -> None:
    # ``config`` first: its command runs on this test's loop thread, and a server already
    # started there could not finish a write transaction the command must wait for.
    result = await asyncio.to_thread(copub, config, "moderators", "add", "nightshift", ALICE)
    assert result.exit_code == 0
    response = await client.get(
        "/c/nightshift/moderators?page=1", headers={"Accept": "application/activity+json"}
    )
    assert (await response.json())["orderedItems"] == [ALICE]
    page, _html = await get_page(client, "/c/nightshift")
    [coordinators] = page.find("ul", **{"aria-labelledby": "coordinators-h"})
    assert coordinators is not None
    assert "social.example/users/alice" in page.text
