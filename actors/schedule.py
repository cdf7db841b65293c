"""When events happen: next occurrences of a (recurring) event, in its own time zone.

An event is stored as a UTC start (and end), an IANA time zone name and an optional
RFC 5545 RRULE. Recurrences are expanded in local wall-clock time, so a meeting at
18:00 in Europe/Berlin stays at 18:00 across daylight-saving changes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

log = logging.getLogger(__name__)

# Finer frequencies (HOURLY, MINUTELY, SECONDLY) make no sense for a community's meetings
# and would be costly to expand; such a rule is ignored (the first date still shows).
FREQUENCIES = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
        "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}  # fmt: skip
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


_Key = tuple[datetime, datetime | None, str, str | None]


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware, in the event's time zone
    end: datetime | None


def zone(name: str) -> ZoneInfo:
    """The time zone named ``name``, or UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("unknown time zone %r; showing UTC", name)
        return ZoneInfo("UTC")


def rule_parts(text: str) -> dict[str, str]:
    """``FREQ=WEEKLY;BYDAY=TU`` (with or without ``RRULE:``) as a dict of its parts."""
    body = text.strip().removeprefix("RRULE:")
    parts = {}
    for item in body.split(";"):
        key, _, value = item.partition("=")
        if key:
            parts[key.strip().upper()] = value.strip()
    return parts


def _rule(text: str, start: datetime) -> rrule | None:
    if rule_parts(text).get("FREQ") not in FREQUENCIES:
        log.info("recurrence %r ignored: unsupported frequency", text)
        return None
    try:
        parsed = rrulestr(text.strip().removeprefix("RRULE:"), dtstart=start)
    except (ValueError, TypeError) as exc:
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
    """Up to ``limit`` occurrences not yet over at ``after`` (an ongoing one included)."""
    tz = zone(tz_name)
    local_start = start.astimezone(tz)
    duration = (end - start) if end is not None and end > start else timedelta(0)
    rule = _rule(recurrence, local_start) if recurrence else None
    if rule is None:
        over = (end or start) < after
        return [] if over or limit < 1 else [_occurrence(local_start, end, tz)]
    found = []
    for moment in rule.xafter(after.astimezone(tz) - duration, count=limit, inc=True):
        if moment + duration >= after:
            found.append(Occurrence(moment, moment + duration if end is not None else None))
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


def utcnow() -> datetime:
    return datetime.now(UTC)
