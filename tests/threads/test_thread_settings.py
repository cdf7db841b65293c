"""``[threads]``: read, checked, documented with its defaults in config.example.toml."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from actors.settings import ConfigError, settings_from_dict
from actors.threads.limits import ThreadSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_example_documents_every_setting_with_its_default() -> None:
    text = EXAMPLE.read_text()
    block = text[text.index("# [threads]") :].split("\n\n", 1)[0]
    documented = tomllib.loads(
        "\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .+)$", block, re.MULTILINE))
    )
    defaults = dataclasses.asdict(ThreadSettings())
    assert documented == defaults


def test_a_section_changes_them_and_they_are_checked() -> None:
    threads = settings_from_dict({"threads": {"max_ancestors": 4, "refresh_minutes": 0}}).threads
    assert (threads.max_ancestors, threads.refresh_minutes, threads.max_items) == (4, 0, 200)
    with pytest.raises(ConfigError, match=r"'threads\.max_items' must be at least 1"):
        settings_from_dict({"threads": {"max_items": 0}})
    with pytest.raises(ConfigError, match=r"'threads\.backfill_seconds' must be positive"):
        settings_from_dict({"threads": {"backfill_seconds": 0}})
