"""``[console]``: its documented defaults, and values that cannot work refused at start."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from actors.accounts.config import ConsoleSettings
from actors.settings import ConfigError, settings_from_dict

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_example_documents_every_key_with_its_default() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    section = text.split("# [console]\n", 1)[1].split("\n\n", 1)[0]
    documented = tomllib.loads(
        "\n".join(line[2:] for line in section.splitlines() if re.match(r"# \w+ = ", line))
    )
    assert documented == dataclasses.asdict(ConsoleSettings())


def test_a_section_changes_them() -> None:
    console = settings_from_dict({"console": {"session_idle_minutes": 15}}).console
    assert (console.session_idle_minutes, console.invite_valid_days) == (15, 7)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"session_idle_minutes": 0}, r"'console\.session_idle_minutes' must be positive"),
        ({"password_min_length": 6}, r"'console\.password_min_length' must be at least 8"),
        ({"argon2_memory_kib": 16, "argon2_parallelism": 4}, r"'console\.argon2_memory_kib'"),
        ({"signin_free_failures": 0}, r"'console\.signin_free_failures'"),
        ({"trust_forwarded_for": "yes"}, r"'console\.trust_forwarded_for' must be bool"),
        ({"sesion_idle_minutes": 5}, r"unknown key 'console\.sesion_idle_minutes'"),
    ],
)
def test_wrong_values_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_dict({"console": values})
