"""``copub publish SLUG story --cycle ...``, ``copub edit`` of a story's claim and ``copub
value``: what a coordinator types, and what is refused with the option to change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from actors.cli import main
from actors.store import social
from actors.store.db import create_engine, sessionmaker

Copub = Callable[..., Result]


@pytest.fixture
def copub(config_file: Path) -> Copub:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(config_file), *args])

    return run


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, message: str) -> None:
    assert result.exit_code in (1, 2), result.output  # 2: click's usage errors
    assert message in result.output, result.output


def published(result: Result) -> str:
    return ok(result).strip().removeprefix("published ")


def test_a_value_story_from_the_shell(copub: Copub, database_url: str) -> None:
    ok(copub("community", "create", "nightshift", "--name", "Night shift"))
    practice = published(copub("publish", "nightshift", "practice", "--title", "Double check",
                               "--content", "Aloud."))  # fmt: skip
    story = ["publish", "nightshift", "story", "--title", "Ward 3", "--content", "A month."]
    refused(copub(*story, "--cycle", "applied", "--about", "https://elsewhere.example/o/1"),
            "--about: https://elsewhere.example/o/1 is not an item of nightshift")  # fmt: skip
    refused(copub(*story, "--changed", "x"), "add --cycle")
    refused(copub(*story, "--cycle", "financial"), "Invalid value for '--cycle'")
    refused(copub(*story, "--cycle", "applied", "--about", "javascript:alert(1)"), "--about:")
    value = ["--cycle", "applied", "--changed", "Doses read aloud", "--for", "night nurses"]
    url = published(copub(*story, *value, "--about", practice.rsplit("/", 1)[-1]))
    # an edit changes what it names and keeps the rest
    ok(copub("edit", "nightshift", url, "--cycle", "realized"))
    note = _object(database_url, url)
    assert (note["valueCycle"], note["valueChanged"], note["valueAbout"]) == (
        "realized", "Doses read aloud", [practice]
    )  # fmt: skip
    ok(copub("edit", "nightshift", url, "--content", "Two months."))
    assert _object(database_url, url)["valueCycle"] == "realized"
    refused(copub("edit", "nightshift", practice, "--cycle", "applied"),
            "--cycle does not apply to a practice")  # fmt: skip
    ok(copub("edit", "nightshift", url, "--no-value"))
    assert "valueCycle" not in _object(database_url, url)
    # indicators
    refused(copub("value", "add", "nightshift", "--cycle", "applied", "--text", " "),
            "--text: an indicator needs a short fact")  # fmt: skip
    refused(copub("value", "add", "nightshift", "--cycle", "applied", "--text", "x",
                  "--date", "30/11/2026"), "--date")  # fmt: skip
    out = ok(copub("value", "add", "nightshift", "--cycle", "applied", "--text", "wards adopted",
                   "--number", "12.5", "--date", "2026-11-30"))  # fmt: skip
    assert out.startswith("indicator 1 recorded for nightshift: Applied value")
    assert (
        ok(copub("value", "list", "nightshift")) == "1\tapplied\t2026-11-30\t12.5\twards adopted\n"
    )
    refused(copub("value", "remove", "nightshift", "7"), "nightshift has no indicator 7")
    ok(copub("value", "remove", "nightshift", "1"))
    assert ok(copub("value", "list", "nightshift")) == ""


def _object(database_url: str, url: str) -> dict[str, object]:
    """The story as stored (and sent) now."""

    async def read() -> dict[str, object]:
        engine = create_engine(database_url)
        try:
            async with sessionmaker(engine)() as session:
                row = await social.get_object(session, url)
                assert row is not None
                return dict(row.ap_json)
        finally:
            await engine.dispose()

    return asyncio.run(read())
