"""Recurring events: rules are checked before publishing, and the next meetings keep their
local time across daylight saving changes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from actors.content import InvalidContent
from actors.event_text import when_text
from actors.events import EventDraft, detail_row, event_time, validate_event
from actors.schedule import Occurrence, occurrences, validate_rrule
from actors.store.models_practice import EventDetailRow

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def upcoming_occurrences(detail: EventDetailRow, after: datetime, count: int) -> list[Occurrence]:
    """The stored event's next ``count`` meetings after ``after`` (an ongoing one included)."""
    return occurrences(
        detail.start_time, detail.end_time, detail.timezone, detail.rrule, after=after, limit=count
    )


def monthly_review(rule: str = "FREQ=MONTHLY;BYDAY=1TU", end: str | None = "2027-01-05T20:00"):
    start = event_time("2027-01-05T18:00", "Europe/Paris", "startTime")
    draft = EventDraft(
        title="Monthly case review",
        markdown="",
        start=start,
        end=event_time(end, "Europe/Paris", "endTime") if end else None,
        timezone="Europe/Paris",
        rrule=rule,
    )
    return detail_row(1, validate_event(draft))


def test_monthly_meeting_keeps_its_local_time_across_daylight_saving() -> None:
    # Given "the first Tuesday of the month, 18:00-20:00, Paris time" from January 2027
    detail = monthly_review()
    # When the next four meetings after 15 February 2027 are asked for
    after = datetime(2027, 2, 15, tzinfo=UTC)
    found = upcoming_occurrences(detail, after, 4)
    # Then they fall on the first Tuesdays, always 18:00 in Paris ...
    assert [o.start.date().isoformat() for o in found] == [
        "2027-03-02",
        "2027-04-06",
        "2027-05-04",
        "2027-06-01",
    ]
    assert {(o.start.hour, o.start.minute) for o in found} == {(18, 0)}
    assert {(o.end.hour, o.end.minute) for o in found if o.end} == {(20, 0)}
    # ... which is 17:00 UTC before 28 March (CET) and 16:00 UTC after it (CEST)
    assert [o.start.astimezone(UTC).hour for o in found] == [17, 16, 16, 16]
    assert all(o.start.tzinfo is not None and o.start.utcoffset() for o in found)


def test_weekly_meeting_across_the_american_change() -> None:
    start = event_time("2027-03-09T09:30", "America/New_York", "startTime")  # a Tuesday
    draft = validate_event(
        EventDraft(
            title="Standup",
            markdown="",
            start=start,
            timezone="America/New_York",
            rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        )
    )
    found = upcoming_occurrences(detail_row(1, draft), datetime(2027, 3, 1, tzinfo=UTC), 10)
    # DST starts 14 March 2027 in New York: 14:30 UTC, then 13:30 UTC; COUNT=3 ends it
    assert [o.start.astimezone(UTC).strftime("%d %H:%M") for o in found] == [
        "09 14:30",
        "16 13:30",
        "23 13:30",
    ]
    assert {o.start.astimezone(NEW_YORK).strftime("%H:%M") for o in found} == {"09:30"}


def test_an_ongoing_meeting_is_still_upcoming() -> None:
    detail = monthly_review()
    during = datetime(2027, 2, 2, 18, 30, tzinfo=PARIS)
    [current] = upcoming_occurrences(detail, during, 1)
    assert current.start == datetime(2027, 2, 2, 18, 0, tzinfo=PARIS)


def test_a_one_off_event_is_upcoming_until_it_ends() -> None:
    detail = monthly_review(rule="", end="2027-01-05T20:00")
    assert detail.rrule is None
    assert len(upcoming_occurrences(detail, datetime(2027, 1, 5, 18, 59, tzinfo=UTC), 3)) == 1
    assert upcoming_occurrences(detail, datetime(2027, 1, 5, 19, 1, tzinfo=UTC), 3) == []


def test_local_until_is_stored_in_utc() -> None:
    start = datetime(2027, 1, 5, 18, 0, tzinfo=PARIS)
    rule = validate_rrule("freq=monthly;byday=1TU;until=20270601", start)
    assert rule == "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270601T215959Z"
    found = upcoming_occurrences(
        monthly_review(rule=rule), datetime(2027, 1, 1, tzinfo=UTC), count=12
    )
    assert [o.start.month for o in found] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("BYDAY=1TU", "FREQ must be one of"),
        ("DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "without DTSTART"),
        ("FREQ=MONTHLY;BYDAY=XX", "not a weekday"),
        ("FREQ=MONTHLY;WKST=XX", "not a valid RRULE"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no such day"),
        ("FREQ=MONTHLY;BYDAY=6MO", "between 1 and 5"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "BYSETPOS must be"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", "DAILY rule"),
        ("FREQ=MONTHLY;BYHOUR=3", "unsupported: BYHOUR"),
        ("FREQ=DAILY;UNTIL=20200101", "no occurrence"),
        ("   ", "empty"),
    ],
)
def test_bad_rules_are_refused_with_the_field(rule: str, message: str) -> None:
    with pytest.raises(InvalidContent) as info:
        validate_rrule(rule, datetime(2027, 1, 5, 18, 0, tzinfo=PARIS))
    assert info.value.field == "rrule"
    assert message in info.value.message


def test_impossible_rules_are_refused_at_once() -> None:
    """Such a rule would walk day by day to the year 9999 (seconds of CPU per event)."""
    start = datetime(2027, 1, 5, 18, 0, tzinfo=PARIS)
    began = time.perf_counter()
    for rule in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2"):
        with pytest.raises(InvalidContent):
            validate_rrule(rule, start)
    assert time.perf_counter() - began < 0.5


def test_when_text_names_date_time_and_zone() -> None:
    start = datetime(2026, 12, 1, 18, 0, tzinfo=PARIS)
    end = datetime(2026, 12, 1, 20, 0, tzinfo=PARIS)
    assert when_text(start, end, "Europe/Paris") == (
        "Tuesday 1 December 2026, 18:00\u201320:00 (Europe/Paris, UTC+01:00)"
    )
    summer = datetime(2027, 7, 6, 18, 0, tzinfo=PARIS)
    assert when_text(summer, None, "Europe/Paris").endswith("18:00 (Europe/Paris, UTC+02:00)")
    assert when_text(start.astimezone(UTC), None, "UTC") == "Tuesday 1 December 2026, 17:00 (UTC)"
