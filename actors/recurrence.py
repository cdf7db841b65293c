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
from actors.schedule import Occurrence, occurrences, rule_problem
from actors.store.models_practice import EventDetailRow

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
    problem = rule_problem(parts)
    if problem is not None:
        raise InvalidContent("rrule", problem)
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
