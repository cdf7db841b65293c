"""Recurring events: checking an iCalendar RRULE, and the upcoming meetings of an event.

The expansion itself (on the event's local wall clock, so "18:00 in Europe/Paris" stays 18:00
across daylight saving changes) is ``actors.schedule.occurrences``; this module refuses what
it could not expand before anything is published.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from actors.content import InvalidContent
from actors.schedule import Occurrence, occurrences
from actors.store.models_practice import EventDetailRow

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_RULE = 500


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; InvalidContent("timezone") if there is none such."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidContent(
            "timezone", f"{name!r} is not an IANA time zone (e.g. Europe/Paris)"
        ) from exc


def _rule(text: str, start: datetime) -> rrule:
    parsed = rrulestr(text, dtstart=start, forceset=False)
    if not isinstance(parsed, rrule):  # pragma: no cover - forceset=False, no RDATE/EXDATE
        raise InvalidContent("rrule", "one RRULE only")
    return parsed


def validate_rrule(text: str, start: datetime) -> str:
    """The rule normalised (``FREQ=MONTHLY;BYDAY=1TU``); InvalidContent("rrule") if it is
    not one recurrence rule of at least daily frequency that yields an occurrence."""
    rule = text.strip().upper().removeprefix("RRULE:")
    if not rule:
        raise InvalidContent("rrule", "the rule is empty")
    if len(rule) > MAX_RULE or "\n" in rule or "DTSTART" in rule:
        raise InvalidContent("rrule", "one RRULE line, without DTSTART")
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    if parts.get("FREQ") not in FREQUENCIES:
        raise InvalidContent("rrule", f"FREQ must be one of {', '.join(FREQUENCIES)}")
    _check_shape(parts)
    if "UNTIL" in parts and not parts["UNTIL"].endswith("Z"):
        parts["UNTIL"] = _until_utc(parts["UNTIL"], start)
        rule = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        parsed = _rule(rule, start)
        first = parsed.after(start, inc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidContent("rrule", f"not a valid RRULE: {exc}") from exc
    if first is None:
        raise InvalidContent("rrule", "the rule yields no occurrence")
    return rule


ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
)
DAYS = frozenset({"MO", "TU", "WE", "TH", "FR", "SA", "SU"})
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: in leap years


def _numbers(value: str, low: int, high: int, what: str) -> list[int]:
    try:
        numbers = [int(n) for n in value.split(",")]
    except ValueError as exc:
        raise InvalidContent("rrule", f"{what} must be numbers") from exc
    if not all(low <= abs(n) <= high for n in numbers):
        raise InvalidContent("rrule", f"{what} must be between {low} and {high}")
    return numbers


def _check_shape(parts: dict[str, str]) -> None:
    """Only rules whose next meeting is found quickly. A rule that can never match (30
    February) would make the expansion walk day by day to the year 9999: seconds of CPU.
    So: the parts a community's meetings need, and no impossible month and day."""
    unknown = set(parts) - ALLOWED_PARTS
    if unknown:
        raise InvalidContent("rrule", f"unsupported: {', '.join(sorted(unknown))}")
    _numbers(parts.get("INTERVAL", "1"), 1, 99, "INTERVAL")
    _numbers(parts.get("COUNT", "1"), 1, 1000, "COUNT")
    if parts["FREQ"] == "DAILY" and (
        {"BYMONTHDAY", "BYMONTH", "BYSETPOS"} & set(parts)
        or ("BYDAY" in parts and parts.get("INTERVAL", "1") != "1")
    ):
        raise InvalidContent("rrule", "a DAILY rule takes BYDAY alone, every day (INTERVAL=1)")
    ordinal_limit = {"MONTHLY": 5, "YEARLY": 53}.get(parts["FREQ"], 0)
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    for day in days:
        ordinal = day[:-2]
        if day[-2:] not in DAYS or (ordinal and ordinal_limit == 0):
            raise InvalidContent("rrule", f"BYDAY {day!r} is not a weekday (e.g. TU or 1TU)")
        if ordinal:
            _numbers(ordinal, 1, ordinal_limit, "a BYDAY position")
    months = _numbers(parts["BYMONTH"], 1, 12, "BYMONTH") if "BYMONTH" in parts else []
    if "BYMONTHDAY" in parts:
        month_days = _numbers(parts["BYMONTHDAY"], 1, 31, "BYMONTHDAY")
        if months and not any(abs(d) <= MONTH_DAYS[m - 1] for m in months for d in month_days):
            raise InvalidContent("rrule", "the rule yields no occurrence (no such day)")
    if "BYSETPOS" in parts:
        if not days or "BYMONTHDAY" in parts or any(d[:-2] for d in days):
            raise InvalidContent("rrule", "BYSETPOS goes with BYDAY alone (e.g. last weekday)")
        _numbers(parts["BYSETPOS"], 1, len(days) * ordinal_limit or len(days), "BYSETPOS")


def _until_utc(value: str, start: datetime) -> str:
    """A local UNTIL (a date, or a date-time in the event's zone) as the UTC form RFC 5545
    requires with a zone-aware start."""
    try:
        day = datetime.strptime(value[:8], "%Y%m%d")
        if len(value) > 8:
            day = datetime.strptime(value, "%Y%m%dT%H%M%S")
        else:
            day = day.replace(hour=23, minute=59, second=59)
    except ValueError as exc:
        raise InvalidContent("rrule", f"UNTIL {value!r} is not a date") from exc
    assert start.tzinfo is not None
    return day.replace(tzinfo=start.tzinfo).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def upcoming_occurrences(
    detail: EventDetailRow, after: datetime | None = None, count: int = 5
) -> list[Occurrence]:
    """Upcoming meetings of a stored event, in its zone (an ongoing one included)."""
    return occurrences(
        detail.start_time,
        detail.end_time,
        detail.timezone,
        detail.rrule,
        after=after or datetime.now(UTC),
        limit=count,
    )
