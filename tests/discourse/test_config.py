"""The adapter's configuration: `[[discourse]]` tables, read only when the adapter is listed,
with errors naming the key and the file; the documented example parses."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from actors.settings import ConfigError, load_settings, settings_from_dict
from actors.web.app import create_app
from adapters.discourse.config import ForumConfig, forums_of, parse_forums

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
GOOD = {
    "community": "nightshift",
    "base_url": "https://forum.example.org/",
    "api_key": "k" * 64,
    "api_username": "copub-bot",
    "category": "night-shift",
    "webhook_secret": "a-long-enough-secret",
}


def forum(**changes: object) -> ForumConfig:
    [parsed] = parse_forums([{**GOOD, **changes}], "copub.toml")
    return parsed


def test_sections_are_kept_for_listed_adapters_only(tmp_path: Path) -> None:
    raw = {"adapters": ["adapters.discourse"], "discourse": [GOOD]}
    settings = settings_from_dict(raw, source="copub.toml")
    assert settings.adapter_config == {"discourse": [GOOD]}
    [parsed] = forums_of(settings)
    assert parsed.base_url == "https://forum.example.org"
    assert parsed.category_id is None
    assert forum(category=7).category_id == 7
    assert parsed.kind_of_tag("Practice") == "practice"
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"discourse": [GOOD]}, source="copub.toml")
    assert "copub.toml: unknown key 'discourse'" in str(info.value)
    assert 'adapters = ["adapters.discourse"]' in str(info.value)
    with pytest.raises(ConfigError, match="unknown key 'adapter_config'"):
        settings_from_dict({"adapter_config": {}})
    with pytest.raises(ConfigError, match="collides"):
        settings_from_dict({"adapters": ["plugins.server"]})
    assert forums_of(settings_from_dict({})) == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_key": ""}, "'discourse[0].api_key' is required"),
        ({"webhook_secret": None}, "'discourse[0].webhook_secret' is required"),
        ({"webhook_secret": 12345678901234}, "'discourse[0].webhook_secret' must be str"),
        ({"poll_interval_seconds": "5"}, "'discourse[0].poll_interval_seconds' must be int or"),
        ({"calendar_events": 1}, "'discourse[0].calendar_events' must be bool"),
        ({"categroy": 7}, "unknown key 'discourse[0].categroy'"),
        ({"tag_kinds": {"howto": "recipe"}}, "'discourse[0].tag_kinds.howto' must be one of"),
        ({"base_url": "forum.example.org"}, "'discourse[0].base_url' must be the forum's"),
        ({"webhook_secret": "short"}, "at least 12 characters"),
        ({"community": "Night Shift"}, "'discourse[0].community' is not a community slug"),
        ({"allowed_networks": ["10.0.0.0/33"]}, "'discourse[0].allowed_networks[0]'"),
        ({"retry_seconds": 0}, "'discourse[0].retry_seconds' must be positive"),
        ({"recheck_topics_per_poll": 2.5}, "'discourse[0].recheck_topics_per_poll' must be int"),
        ({"recheck_recent_topics": -1}, "'discourse[0].recheck_recent_topics' must not be"),
    ],
)
def test_mistakes_name_the_key_and_the_file(changes: dict[str, object], message: str) -> None:
    item = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        parse_forums([item], "copub.toml")
    assert str(info.value).startswith("copub.toml: ")
    assert message in str(info.value)


def test_one_forum_per_community() -> None:
    with pytest.raises(ConfigError, match=r"'discourse\[1\].community' repeats 'nightshift'"):
        parse_forums([GOOD, GOOD], "copub.toml")


def test_a_wrong_table_stops_the_server_at_start(settings: object) -> None:
    raw = {"adapters": ["adapters.discourse"], "discourse": [{**GOOD, "api_key": 7}]}
    with pytest.raises(ConfigError, match="api_key' must be str"):
        create_app(settings_from_dict(raw, source="copub.toml"))


def test_the_example_runs_without_a_forum_and_documents_one(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE)
    assert settings.adapters == ()  # disabled by default: `make run` needs no Discourse
    text = EXAMPLE.read_text(encoding="utf-8")
    # The commented lines, uncommented, are a working configuration
    adapters = re.search(r"^# (adapters = .*)$", text, re.MULTILINE)
    block = re.search(
        r"# --- Discourse.*?\n(# \[\[discourse.*?)# --- end of Discourse", text, re.DOTALL
    )
    assert adapters is not None
    assert block is not None
    lines = [line.removeprefix("# ") for line in block.group(1).splitlines()]
    uncommented = "\n".join(line for line in lines if not line.startswith("#"))
    raw = tomllib.loads(adapters.group(1) + "\n" + uncommented)
    assert raw["adapters"] == ["adapters.discourse"]
    [parsed] = parse_forums(raw["discourse"], "example")
    assert parsed.community == "nightshift"
    assert parsed.tag_kinds == {"practice": "practice", "how-to": "practice", "event": "event"}
    assert parsed.poll_interval_seconds == 300.0
    assert (parsed.recheck_topics_per_poll, parsed.recheck_recent_topics) == (10, 100)
