"""Occurrences of events in their own time zone, and recurrence rules in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actors.schedule import describe, next_occurrence, occurrences

BERLIN_WINTER = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)  # 18:00 CET, the first Tuesday


def test_monthly_meeting_keeps_its_local_time_across_daylight_saving() -> None:
    found = occurrences(
        BERLIN_WINTER,
        BERLIN_WINTER + timedelta(hours=1),
        "Europe/Berlin",
        "FREQ=MONTHLY;BYDAY=1TU",
        after=datetime(2026, 2, 1, tzinfo=UTC),
        limit=4,
    )
    assert [o.start.strftime("%Y-%m-%d %H:%M %Z") for o in found] == [
        "2026-02-03 18:00 CET",
        "2026-03-03 18:00 CET",
        "2026-04-07 18:00 CEST",  # 16:00 UTC now, still 18:00 on the wall
        "2026-05-05 18:00 CEST",
    ]
    assert all(o.end is not None and o.end - o.start == timedelta(hours=1) for o in found)
    assert found[2].start.astimezone(UTC).hour == 16


def test_an_ongoing_meeting_is_still_upcoming() -> None:
    during = BERLIN_WINTER + timedelta(minutes=30)
    [now_on] = occurrences(
        BERLIN_WINTER, BERLIN_WINTER + timedelta(hours=1), "Europe/Berlin", None, after=during
    )
    assert now_on.start == BERLIN_WINTER
    after_end = BERLIN_WINTER + timedelta(hours=1, seconds=1)
    assert occurrences(BERLIN_WINTER, None, "UTC", None, after=after_end) == []
    weekly = next_occurrence(
        BERLIN_WINTER, BERLIN_WINTER + timedelta(hours=1), "Europe/Berlin", "FREQ=WEEKLY", during
    )
    assert weekly is not None
    assert weekly.start == BERLIN_WINTER


def test_count_and_until_end_a_series() -> None:
    late = datetime(2027, 1, 1, tzinfo=UTC)
    assert occurrences(BERLIN_WINTER, None, "UTC", "FREQ=WEEKLY;COUNT=3", after=late) == []
    until = "FREQ=DAILY;UNTIL=20260108T235959Z"
    days = occurrences(BERLIN_WINTER, None, "UTC", until, after=BERLIN_WINTER, limit=10)
    assert [o.start.day for o in days] == [6, 7, 8]


def test_unsupported_or_broken_rules_fall_back_to_the_first_date() -> None:
    for rule in ("FREQ=MINUTELY", "FREQ=WEEKLY;BYDAY=XX", "nonsense"):
        found = occurrences(BERLIN_WINTER, None, "Europe/Berlin", rule, after=BERLIN_WINTER)
        assert [o.start for o in found] == [BERLIN_WINTER]


def test_unknown_time_zone_shows_utc() -> None:
    [o] = occurrences(BERLIN_WINTER, None, "Mars/Olympus", None, after=BERLIN_WINTER)
    assert o.start.utcoffset() == timedelta(0)


def test_rules_in_words() -> None:
    start = BERLIN_WINTER
    assert describe("FREQ=MONTHLY;BYDAY=1TU", start) == "Every month on the first Tuesday"
    assert describe("FREQ=MONTHLY;BYDAY=-1FR", start) == "Every month on the last Friday"
    assert describe("FREQ=WEEKLY", start) == "Every week on Tuesday"
    assert (
        describe("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=6", start)
        == "Every 2 weeks on Monday and Thursday, 6 times"
    )
    assert describe("FREQ=DAILY;UNTIL=20261231T000000Z", start) == "Every day, until 2026-12-31"
    assert describe("FREQ=MONTHLY;BYMONTHDAY=15", start) == "Every month on day 15"
    assert describe("FREQ=HOURLY", start) is None
    assert describe(None, start) is None
