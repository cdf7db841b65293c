"""The recorded moderation payloads: each parses, names itself, and has a source.

``tests/fixtures/activities/moderation/SOURCES.md`` must name every fixture (a new file without
a recorded source fails here), and every file it names must exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "activities" / "moderation"
SOURCES = FOLDER / "SOURCES.md"
COLLECTION_TYPES = {"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"}
FIXTURES = sorted(FOLDER.glob("*.json"))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        raise ValueError(f"duplicate keys {sorted(duplicates)}")
    return dict(pairs)


def load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    assert isinstance(document, dict), f"{path.name}: not a JSON object"
    return document


def host(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https", f"not an https URL: {url!r}"
    assert parts.hostname, f"no host: {url!r}"
    return parts.hostname


def check_activity(document: dict[str, Any], where: str) -> None:
    for key in ("id", "type", "actor"):
        assert isinstance(document.get(key), str), f"{where}: no {key}"
        assert document[key], f"{where}: empty {key}"
    # Mastodon keeps a Flag's id only on the actor's host; Lemmy's library rejects a top-level
    # activity whose id is elsewhere: every recorded activity is same-origin.
    assert host(document["id"]) == host(document["actor"]), f"{where}: id and actor differ"
    inner = document.get("object")
    if isinstance(inner, dict):
        check_activity(inner, f"{where} > object")


def source_names() -> set[str]:
    """The fixtures SOURCES.md records: the first cell of each row of its table."""
    text = SOURCES.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([^`/]+\.json)` \|", text, flags=re.MULTILINE))


def test_the_folder_has_fixtures() -> None:
    assert len(FIXTURES) >= 15, [p.name for p in FIXTURES]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_is_a_named_document(path: Path) -> None:
    document = load(path)
    assert document.get("@context"), f"{path.name}: no @context"
    if document.get("type") in COLLECTION_TYPES:
        assert isinstance(document.get("id"), str)
        items = document.get("orderedItems", document.get("items"))
        assert isinstance(items, list)
        assert all(isinstance(i, str) for i in items)
    else:
        check_activity(document, path.name)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_has_a_recorded_source(path: Path) -> None:
    assert path.name in source_names(), f"{path.name} is not named in SOURCES.md"


def test_sources_name_only_existing_fixtures() -> None:
    missing = source_names() - {p.name for p in FIXTURES}
    assert not missing, f"SOURCES.md names files that are not there: {sorted(missing)}"


def test_file_names_say_software_and_what() -> None:
    pattern = re.compile(r"^(lemmy|mastodon|gotosocial|misskey|mbin)-[a-z0-9-]+\.json$")
    assert [p.name for p in FIXTURES if not pattern.match(p.name)] == []


def test_lemmy_flag_has_the_one_recipient_lemmy_requires() -> None:
    flag = load(FOLDER / "lemmy-flag-page.json")
    assert isinstance(flag["to"], list)
    assert len(flag["to"]) == 1
    assert flag["audience"] == flag["to"][0]
    assert flag["summary"]


def test_instance_actor_flags_carry_no_addressing() -> None:
    for name in ("mastodon-flag.json", "gotosocial-flag.json", "misskey-flag.json"):
        flag = load(FOLDER / name)
        assert "to" not in flag, name
        assert "cc" not in flag, name
        assert flag["content"], name
