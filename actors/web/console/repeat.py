"""How often an event repeats, in words a coordinator picks from, and the RRULE each means.

The choices are relative to the event's start ("every week on <its weekday>", "every
month on <its ordinal weekday>", "every month on <its day>"), as calendars offer them; a
rule that is none of them (sent by the API, the CLI or a forum) is kept as it is and shown
in words by ``actors.schedule.describe``. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime

from actors.schedule import describe, rule_parts

NONE = ""
CUSTOM = "custom"  # the rule typed as an RRULE (or kept as it was)
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# the choices, in the order offered; their label without a start
GENERIC = {
    NONE: "Does not repeat",
    "daily": "Every day",
    "weekly": "Every week, on the start's weekday",
    "fortnightly": "Every 2 weeks, on the start's weekday",
    "monthly_weekday": "Every month, on the same weekday (e.g. the third Tuesday)",
    "monthly_last_weekday": "Every month, on the last such weekday (e.g. the last Tuesday)",
    "monthly_day": "Every month, on the start's day of the month",
    "yearly": "Every year, on the start's date",
    CUSTOM: "Another rule (an iCalendar RRULE)",
}
CHOICES = tuple(GENERIC)


def _week_of_month(start: datetime) -> int:
    return (start.day - 1) // 7 + 1


def rule_for(choice: str, start: datetime) -> str | None:
    """The RRULE of ``choice`` for an event starting at ``start`` (local time); None for
    "does not repeat" and for ``CUSTOM`` (the caller takes the typed rule)."""
    day = _CODES[start.weekday()]
    rules = {
        "daily": "FREQ=DAILY",
        "weekly": f"FREQ=WEEKLY;BYDAY={day}",
        "fortnightly": f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}",
        "monthly_weekday": f"FREQ=MONTHLY;BYDAY={_week_of_month(start)}{day}",
        "monthly_last_weekday": f"FREQ=MONTHLY;BYDAY=-1{day}",
        "monthly_day": f"FREQ=MONTHLY;BYMONTHDAY={start.day}",
        "yearly": f"FREQ=YEARLY;BYMONTH={start.month};BYMONTHDAY={start.day}",
    }
    return rules.get(choice)


def offered(start: datetime | None) -> list[tuple[str, str]]:
    """(choice, label) to offer, in words for ``start`` when it is known ("Every month on
    the third Tuesday")."""
    return [(choice, label(choice, start)) for choice in CHOICES]


def label(choice: str, start: datetime | None) -> str:
    rule = rule_for(choice, start) if start is not None else None
    if start is None or rule is None:
        return GENERIC.get(choice, choice)
    if choice == "yearly":
        return f"Every year on {start.day} {start:%B}"
    return describe(rule, start) or GENERIC[choice]


def choice_of(rule: str | None, start: datetime) -> str:
    """Which choice ``rule`` is for an event starting at ``start``: ``NONE``, one of the
    choices (the same parts, in any order), or ``CUSTOM``."""
    if not rule:
        return NONE
    parts = rule_parts(rule)
    for choice in CHOICES:
        candidate = rule_for(choice, start)
        if candidate is not None and rule_parts(candidate) == parts:
            return choice
    return CUSTOM
