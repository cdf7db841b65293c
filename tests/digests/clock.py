"""A clock a test moves by hand (the digest service reads it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actors.digests.periods import Frequency, containing


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def next_week(self) -> None:
        """Five minutes into the next week: the week before has just closed."""
        self.now = containing(self.now, Frequency.WEEKLY).end + timedelta(minutes=5)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
