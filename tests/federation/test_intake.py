"""federation.intake: every value another server sends is checked in one place: URLs (http(s)
only, no control characters), lists (de-duplicated, capped), dates (a sane range)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from federation.intake import (
    AUDIENCE_KEYS,
    Limits,
    bound_document,
    bounded,
    date_problem,
    first_url,
    in_date_range,
    remote_time,
    safe_url,
)
from federation.vocab import PUBLIC

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "https://cop.example/c/night",
        "http://127.0.0.1:8080/users/alice",
        "https://visio.example/room?id=7#top",
        "https://exämple.org/ünïcode/päth",
        "HTTPS://CAPS.example/",
    ],
)
def test_safe_url_keeps_http_urls(value: str) -> None:
    assert safe_url(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.domain)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https://visio.example/room\r\nX-INJECTED:1",
        "https://visio.example/\nroom",
        "https://visio.example/room\t",
        "https://visio.example/ro om",
        "https://visio.example/room\x00",
        "https://visio.example/room\x7f",
        "https://visio.example/room\u2028",
        '"https://visio.example/"><script>',
        "https://",
        "https:///path-without-host",
        "https:visio.example",
        "//visio.example/room",
        "/relative/path",
        "ftp://files.example/x",
        "https://visio.example:99999/",
        "https://[::1/",
        "",
        "https://visio.example/" + "a" * 5000,
        None,
        42,
        ["https://visio.example/"],
        {"href": "https://visio.example/"},
    ],
)
def test_safe_url_refuses_everything_else(value: object) -> None:
    assert safe_url(value) is None


def test_safe_url_length_is_a_limit() -> None:
    url = "https://visio.example/" + "a" * 100
    assert safe_url(url, max_length=200) == url
    assert safe_url(url, max_length=50) is None


def test_first_url_reads_strings_links_and_lists() -> None:
    assert first_url("https://a.example/@x") == "https://a.example/@x"
    assert first_url({"type": "Link", "href": "https://a.example/x"}) == "https://a.example/x"
    links = [
        {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://a.example/v.m3u8"},
        {"type": "Link", "mediaType": "text/html", "href": "https://a.example/w/1"},
    ]
    assert first_url(links) == "https://a.example/w/1"  # a page, as PeerTube lists it
    assert first_url(["javascript:alert(1)", "https://a.example/ok"]) == "https://a.example/ok"
    assert first_url(["javascript:alert(1)"]) is None
    assert first_url(None) is None


def test_bounded_deduplicates_before_it_caps() -> None:
    community = "https://cop.example/c/night"
    some = [community] * 5 + ["https://b.example/u/1", community, "https://b.example/u/2"]
    assert bounded(some, 3) == [community, "https://b.example/u/1", "https://b.example/u/2"]
    assert bounded(some, 2) == [community, "https://b.example/u/1"]
    # 26,263 repeats of one address are one address
    assert bounded([community] * 26_263, 200) == [community]
    # links and embedded objects are the same entry as their id
    mixed = [community, {"id": community, "type": "Group"}, {"href": community}]
    assert bounded(mixed, 10) == [community]
    assert bounded("https://a.example/x", 10) == ["https://a.example/x"]
    assert bounded(None, 10) == []


def test_bounded_scans_a_bounded_prefix() -> None:
    # a list far longer than the cap is not walked to its end: past the scanned prefix,
    # nothing is read (the values are never even hashed)
    class Exploding(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            raise AssertionError("read past the scan bound")

    values: list[object] = ["https://a.example/1"] * 80 + [Exploding()] * 10
    assert bounded(values, 10) == ["https://a.example/1"]


def test_bound_document_caps_audiences_tags_and_attachments_of_nested_objects() -> None:
    limits = Limits(max_audience=5, max_tags=3, max_attachments=2)
    community = "https://cop.example/c/night"
    note = {
        "id": "https://a.example/n/1",
        "type": "Note",
        "cc": [community] * 20 + [f"https://a.example/u/{i}" for i in range(100)],
        "tag": [{"type": "Mention", "href": f"https://a.example/u/{i}"} for i in range(50)],
        "attachment": [{"type": "Document", "url": f"https://a.example/{i}"} for i in range(9)],
    }
    create = {"id": "https://a.example/a/1", "type": "Create", "to": [PUBLIC], "object": note}
    bounded_create = bound_document(create, limits)
    inner = bounded_create["object"]
    assert inner["cc"][0] == community
    assert len(inner["cc"]) == 5
    assert len(inner["tag"]) == 3
    assert len(inner["attachment"]) == 2
    assert bounded_create["to"] == [PUBLIC]
    # the document it was given is left as it was
    assert len(note["cc"]) == 120


def test_bound_document_leaves_ordinary_documents_as_they_are() -> None:
    note = {"id": "https://a.example/n/1", "type": "Note", "to": PUBLIC, "cc": ["x", "y"]}
    assert bound_document(note, Limits()) is note
    assert all(key in AUDIENCE_KEYS for key in ("to", "cc", "bto", "bcc", "audience"))


def test_remote_time_is_refused_outside_a_sane_range() -> None:
    limits = Limits(min_year=1900, max_years_ahead=100)
    assert remote_time("2031-03-04T19:00:00+01:00", limits, now=NOW) == datetime(
        2031, 3, 4, 18, 0, tzinfo=UTC
    )
    assert remote_time("2031-03-04T19:00:00Z", limits, now=NOW) is not None
    assert remote_time("2031-03-04T19:00:00", limits, now=NOW) is not None  # naive: UTC
    assert remote_time("0001-01-01T00:00:00Z", limits, now=NOW) is None
    assert remote_time("1899-12-31T23:00:00Z", limits, now=NOW) is None
    assert remote_time("2127-01-01T00:00:00Z", limits, now=NOW) is None
    assert remote_time("not a date", limits, now=NOW) is None
    assert remote_time(20310304, limits, now=NOW) is None
    assert in_date_range(datetime(1900, 1, 1, tzinfo=UTC), limits, now=NOW)
    assert not in_date_range(datetime(9999, 1, 1, tzinfo=UTC), limits, now=NOW)


def test_date_problem_names_the_field() -> None:
    limits = Limits()
    event = {"type": "Event", "startTime": "0001-01-01T00:00:00Z", "published": "2026-01-01"}
    problem = date_problem(event, limits, now=NOW)
    assert problem is not None
    assert "startTime" in problem
    assert date_problem({"startTime": "2027-01-01T10:00:00Z"}, limits, now=NOW) is None
    # unreadable dates are not this check's business (the reader ignores them)
    assert date_problem({"published": "yesterday"}, limits, now=NOW) is None
