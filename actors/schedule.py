"""When events happen: time zones, checking an iCalendar RRULE, and the next occurrences
of a (recurring) event, in its own time zone.

An event is stored as a UTC start (and end), an IANA time zone name and an optional
RFC 5545 RRULE. Recurrences are expanded in local wall-clock time, so a meeting at
18:00 in Europe/Berlin stays at 18:00 across daylight-saving changes.

What a coordinator gives is checked, and refused with ``InvalidContent``: :func:`zone`,
:func:`validate_rrule` (a rule that could not be expanded is refused before anything is
published). What is stored is shown as well as it can be: :func:`zone_or_utc`, and a stored
rule we do not expand is ignored (the first date still shows).

The expansion is bounded, whatever the rule and its first day: it starts one period or so
before the moment asked about (the rule's phase kept: :func:`near`), walks at most
``MAX_STEPS`` occurrences and for at most ``MAX_SECONDS``; rules whose next occurrence
could take long to find are refused (:func:`rule_problem`).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from actors.content import InvalidContent
from federation.clock import zone_named

log = logging.getLogger(__name__)

# Finer frequencies (HOURLY, MINUTELY, SECONDLY) make no sense for a community's meetings
# and would be costly to expand; such a rule is ignored (the first date still shows).
FREQUENCIES = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
        "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}  # fmt: skip
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
# At most this many occurrences are walked per expansion: a rule moved forward (near())
# finds its next meetings within a few dozen; a COUNT rule, counted from its first day,
# cannot be moved and is cut here (COUNT is at most 1000 when a rule is accepted).
MAX_STEPS = 1000
# and for at most this long, in seconds (a guard: the steps bound the walk already)
MAX_SECONDS = 0.05
MAX_RULE = 500  # characters of a rule a coordinator may give


_Key = tuple[datetime, datetime | None, str, str | None]


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware, in the event's time zone
    end: datetime | None


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; InvalidContent("timezone") if there is none such."""
    found = zone_named(name)
    if found is None:
        raise InvalidContent("timezone", f"{name!r} is not an IANA time zone (e.g. Europe/Paris)")
    return found


def zone_or_utc(name: str) -> ZoneInfo:
    """The time zone named ``name``, or UTC when there is none such (a stored event is
    shown, in UTC, rather than not at all)."""
    found = zone_named(name)
    if found is None:
        log.info("unknown time zone %r; showing UTC", name)
        return ZoneInfo("UTC")
    return found


def rule_parts(text: str) -> dict[str, str]:
    """``FREQ=WEEKLY;BYDAY=TU`` (with or without ``RRULE:``) as a dict of its parts."""
    body = text.strip().removeprefix("RRULE:")
    parts = {}
    for item in body.split(";"):
        key, _, value = item.partition("=")
        if key:
            parts[key.strip().upper()] = value.strip()
    return parts


ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
)
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: in leap years


class _Shape(ValueError):
    """A rule of a shape we do not expand (its message says why)."""


def _numbers(value: str, low: int, high: int, what: str) -> list[int]:
    try:
        numbers = [int(n) for n in value.split(",")]
    except ValueError as exc:
        raise _Shape(f"{what} must be numbers") from exc
    if not all(low <= abs(n) <= high for n in numbers):
        raise _Shape(f"{what} must be between {low} and {high}")
    return numbers


def rule_problem(parts: dict[str, str]) -> str | None:
    """Why a rule (``rule_parts``) is not one whose next meeting is found quickly, or None.

    A rule that can never match (30 February) would make the expansion walk day by day to
    the year 9999: seconds of CPU. So: the parts a community's meetings need, and no
    impossible month and day."""
    try:
        _check_shape(parts)
    except _Shape as exc:
        return str(exc)
    return None


def _check_shape(parts: dict[str, str]) -> None:
    if parts.get("FREQ") not in FREQUENCIES:
        raise _Shape(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    unknown = set(parts) - ALLOWED_PARTS
    if unknown:
        raise _Shape(f"unsupported: {', '.join(sorted(unknown))}")
    _numbers(parts.get("INTERVAL", "1"), 1, 99, "INTERVAL")
    _numbers(parts.get("COUNT", "1"), 1, 1000, "COUNT")
    if parts["FREQ"] == "DAILY" and (
        {"BYMONTHDAY", "BYMONTH", "BYSETPOS"} & set(parts)
        or ("BYDAY" in parts and parts.get("INTERVAL", "1") != "1")
    ):
        raise _Shape("a DAILY rule takes BYDAY alone, every day (INTERVAL=1)")
    ordinal_limit = {"MONTHLY": 5, "YEARLY": 53}.get(parts["FREQ"], 0)
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    for day in days:
        ordinal = day[:-2]
        if day[-2:] not in DAYS or (ordinal and ordinal_limit == 0):
            raise _Shape(f"BYDAY {day!r} is not a weekday (e.g. TU or 1TU)")
        if ordinal:
            _numbers(ordinal, 1, ordinal_limit, "a BYDAY position")
    months = _numbers(parts["BYMONTH"], 1, 12, "BYMONTH") if "BYMONTH" in parts else []
    if "BYMONTHDAY" in parts:
        month_days = _numbers(parts["BYMONTHDAY"], 1, 31, "BYMONTHDAY")
        if months and not any(abs(d) <= MONTH_DAYS[m - 1] for m in months for d in month_days):
            raise _Shape("the rule yields no occurrence (no such day)")
    if "BYSETPOS" in parts:
        if not days or "BYMONTHDAY" in parts or any(d[:-2] for d in days):
            raise _Shape("BYSETPOS goes with BYDAY alone (e.g. last weekday)")
        _numbers(parts["BYSETPOS"], 1, len(days) * ordinal_limit or len(days), "BYSETPOS")


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
        first = rrulestr(rule, dtstart=start, forceset=False).after(start, inc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidContent("rrule", f"not a valid RRULE: {exc}") from exc
    if first is None:
        raise InvalidContent("rrule", "the rule yields no occurrence")
    return rule


def _until_utc(value: str, start: datetime) -> str:
    """A local UNTIL (a date, or a date-time in the event's zone) as the UTC form RFC 5545
    requires with a zone-aware start."""
    zone = start.tzinfo
    assert zone is not None
    try:
        if len(value) > 8:
            day = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        else:
            day = datetime.strptime(value, "%Y%m%d").replace(
                hour=23, minute=59, second=59, tzinfo=zone
            )
    except ValueError as exc:
        raise InvalidContent("rrule", f"UNTIL {value!r} is not a date") from exc
    return day.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def near(text: str, start: datetime, since: datetime) -> tuple[str, datetime]:
    """A rule and first day yielding the same occurrences from ``since`` on as ``text``
    from ``start`` (local, aware), starting one interval or so before ``since``: whole
    intervals of the rule's frequency are skipped, so its phase is kept, and the days a
    rule takes from its first day (BYMONTHDAY, BYMONTH) are written out. A COUNT rule is
    counted from its first day and is left as it is."""
    parts = rule_parts(text)
    freq = parts.get("FREQ", "")
    interval = parts.get("INTERVAL", "1")
    every = int(interval) if interval.isdigit() and int(interval) > 0 else 1
    if "COUNT" in parts or freq not in FREQUENCIES or since <= start:
        return text, start
    local_since = since.astimezone(start.tzinfo).replace(tzinfo=None)
    if freq in ("DAILY", "WEEKLY"):
        unit = 1 if freq == "DAILY" else 7
        skip = ((local_since - start.replace(tzinfo=None)).days // (unit * every) - 1) * every
        moved = start + timedelta(days=skip * unit)
    else:
        unit = 1 if freq == "MONTHLY" else 12
        months = (local_since.year - start.year) * 12 + local_since.month - start.month
        skip = (months // (unit * every) - 1) * every
        moved = start + relativedelta(months=skip * unit)
        text = _with_days(text, parts, start)
    return (text, moved) if skip > 0 else (text, start)


def _with_days(text: str, parts: dict[str, str], start: datetime) -> str:
    """A MONTHLY or YEARLY rule with the day (and month) it takes from its first day."""
    if {"BYDAY", "BYMONTHDAY"} & set(parts):
        return text
    extra = f";BYMONTHDAY={start.day}"
    if parts.get("FREQ") == "YEARLY" and "BYMONTH" not in parts:
        extra += f";BYMONTH={start.month}"
    return text.strip().removeprefix("RRULE:") + extra


def _rule(text: str, start: datetime) -> rrule | None:
    problem = rule_problem(rule_parts(text))
    if problem is not None:
        log.info("recurrence %r ignored: %s", text, problem)
        return None
    try:
        parsed = rrulestr(text.strip().removeprefix("RRULE:"), dtstart=start)
    except (ValueError, TypeError, OverflowError) as exc:
        log.info("recurrence %r ignored: %s", text, exc)
        return None
    return parsed if isinstance(parsed, rrule) else None


def occurrences(
    start: datetime,
    end: datetime | None,
    tz_name: str,
    recurrence: str | None,
    *,
    after: datetime,
    limit: int = 5,
) -> list[Occurrence]:
    """Up to ``limit`` occurrences not yet over at ``after`` (an ongoing one included),
    found within ``MAX_STEPS`` occurrences walked and ``MAX_SECONDS``."""
    tz = zone_or_utc(tz_name)
    duration = (end - start) if end is not None and end > start else timedelta(0)
    try:
        local_start = start.astimezone(tz)
        since = after - duration
    except OverflowError:  # a time at the edge of the calendar (year 1, year 9999)
        return []
    rule = _rule(*near(recurrence, local_start, since)) if recurrence else None
    if rule is None:
        over = (end or start) < after
        return [] if over or limit < 1 else [_occurrence(local_start, end, tz)]
    found: list[Occurrence] = []
    if limit < 1:
        return found
    deadline = time.monotonic() + MAX_SECONDS
    for steps, moment in enumerate(rule, start=1):
        if moment + duration >= after:
            found.append(Occurrence(moment, moment + duration if end is not None else None))
            if len(found) >= limit:
                break
        if steps >= MAX_STEPS or (steps % 64 == 0 and time.monotonic() > deadline):
            log.info("recurrence %r: stopped after %d occurrences", recurrence, steps)
            break
    return found


def _occurrence(local_start: datetime, end: datetime | None, tz: ZoneInfo) -> Occurrence:
    return Occurrence(local_start, end.astimezone(tz) if end is not None else None)


def next_occurrence(
    start: datetime, end: datetime | None, tz_name: str, recurrence: str | None, now: datetime
) -> Occurrence | None:
    found = occurrences(start, end, tz_name, recurrence, after=now, limit=1)
    return found[0] if found else None


class NextOccurrences:
    """A memo of each event's next occurrence, kept until that occurrence is over.

    The first occurrence not over at some moment stays the first one until it ends, so a
    page that lists upcoming events expands each rule once per meeting, not per request.
    Keyed by the event's times and rule (an edit makes a new key); at most ``size`` kept.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._memo: OrderedDict[_Key, tuple[Occurrence | None, datetime | None]] = OrderedDict()

    def get(
        self, start: datetime, end: datetime | None, tz_name: str, recurrence: str | None,
        now: datetime,
    ) -> Occurrence | None:  # fmt: skip
        key = (start, end, tz_name, recurrence)
        hit = self._memo.get(key)
        if hit is not None and (hit[1] is None or now <= hit[1]):
            self._memo.move_to_end(key)
            return hit[0]
        found = next_occurrence(start, end, tz_name, recurrence, now)
        self._memo[key] = (found, None if found is None else (found.end or found.start))
        self._memo.move_to_end(key)
        if len(self._memo) > self._size:
            self._memo.popitem(last=False)
        return found


def describe(recurrence: str | None, start: datetime) -> str | None:
    """A readable sentence for common rules ("Every month on the first Tuesday")."""
    if not recurrence:
        return None
    parts = rule_parts(recurrence)
    unit = FREQUENCIES.get(parts.get("FREQ", ""))
    if unit is None:
        return None
    interval = int(parts["INTERVAL"]) if parts.get("INTERVAL", "").isdigit() else 1
    text = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    if days:
        text += " on " + _and([_day(d) for d in days])
    elif parts.get("BYMONTHDAY"):
        text += f" on day {parts['BYMONTHDAY']}"
    elif unit == "week":
        text += f" on {start.strftime('%A')}"
    if parts.get("COUNT", "").isdigit():
        text += f", {parts['COUNT']} times"
    if parts.get("UNTIL"):
        until = parts["UNTIL"][:8]
        text += f", until {until[:4]}-{until[4:6]}-{until[6:8]}"
    return text


def _day(code: str) -> str:
    name = DAYS.get(code[-2:].upper(), code)
    prefix = code[:-2]
    if not prefix:
        return name
    try:
        return f"the {ORDINALS[int(prefix)]} {name}"
    except (KeyError, ValueError):
        return f"{name} ({prefix})"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
