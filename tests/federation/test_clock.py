"""Times as copub reads and writes them: ISO 8601 in, AS2's UTC form out, zones by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from federation.clock import as2_time, parse_iso_time, utcnow, zone_named

PARIS = ZoneInfo("Europe/Paris")


def test_utcnow_is_aware_and_in_utc() -> None:
    assert utcnow().tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2031-03-04T19:00:00Z", datetime(2031, 3, 4, 19, tzinfo=UTC)),
        ("2031-03-04T19:00:00+01:00", datetime(2031, 3, 4, 18, tzinfo=UTC)),
        (" 2031-03-04 19:00 ", datetime(2031, 3, 4, 19, tzinfo=UTC)),  # naive: UTC
    ],
)
def test_an_iso_time_is_read_as_an_aware_moment(text: str, expected: datetime) -> None:
    moment = parse_iso_time(text)
    assert moment == expected
    assert moment is not None
    assert moment.tzinfo is not None


def test_a_wall_clock_time_is_read_in_the_zone_given() -> None:
    moment = parse_iso_time("2026-12-01T18:00", PARIS)
    assert moment == datetime(2026, 12, 1, 17, tzinfo=UTC)
    assert parse_iso_time("2026-12-01T18:00Z", PARIS) == datetime(2026, 12, 1, 18, tzinfo=UTC)


@pytest.mark.parametrize("value", ["", "not a date", "2031-13-01", 20310304, None, "9" * 65])
def test_what_is_not_an_iso_time_reads_as_none(value: object) -> None:
    assert parse_iso_time(value) is None


def test_as2_time_writes_utc_to_the_second() -> None:
    moment = datetime(2026, 12, 1, 18, 0, 7, 999, tzinfo=timezone(timedelta(hours=1)))
    assert as2_time(moment) == "2026-12-01T17:00:07Z"
    naive = datetime(2026, 12, 1, 18, 0, 7)  # noqa: DTZ001 (a naive time is read as UTC)
    assert as2_time(naive) == "2026-12-01T18:00:07Z"


def test_a_zone_is_found_by_its_iana_name_or_not_at_all() -> None:
    assert zone_named("Europe/Paris") == PARIS
    for name in ("Mars/Olympus", "", "../etc/passwd", "Europe/Paris\x00"):
        assert zone_named(name) is None
