"""The periods a digest covers: ISO weeks (Monday to Monday) and calendar months, in UTC.

A period's digest goes out once the period is over; it says what happened in it and what
comes next. Everything here is pure: the clock is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Frequency(StrEnum):
    """How often a subscriber hears from the community (``digest_subscriptions.frequency``)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, one week or one month."""

    frequency: Frequency
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """A short stable name: ``2026-W48`` or ``2026-11``."""
        if self.frequency is Frequency.WEEKLY:
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        """In words: ``the week of 23 November 2026`` or ``November 2026``."""
        if self.frequency is Frequency.WEEKLY:
            return f"the week of {self.start.day} {self.start:%B %Y}"
        return f"{self.start:%B %Y}"

    def previous(self) -> Period:
        return containing(self.start - timedelta(microseconds=1), self.frequency)

    def next(self) -> Period:
        return containing(self.end, self.frequency)


def containing(moment: datetime, frequency: Frequency) -> Period:
    """The week or month ``moment`` falls in."""
    at = moment.astimezone(UTC)
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency is Frequency.WEEKLY:
        start = midnight - timedelta(days=at.weekday())
        return Period(frequency, start, start + timedelta(days=7))
    start = midnight.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else (start.replace(month=start.month + 1))
    )
    return Period(frequency, start, end)


def last_closed(now: datetime, frequency: Frequency) -> Period:
    """The latest period that is over at ``now``: the one whose digest is due."""
    return containing(now, frequency).previous()


def from_key(key: str, frequency: Frequency) -> Period:
    """The period named ``key`` (``Period.key``); ValueError when it names none."""
    if frequency is Frequency.WEEKLY:
        start = datetime.strptime(key + "-1", "%G-W%V-%u").replace(tzinfo=UTC)
    else:
        start = datetime.strptime(key + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    period = containing(start, frequency)
    if period.key != key:
        raise ValueError(key)
    return period
