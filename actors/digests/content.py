"""What a digest says: the community's period in values (no HTML, no SQL).

``build_digest`` puts together what the store found for one community and one period:
practices that are new and practices revised, stories, the events coming after the period
and the threads that had the most replies in it. The renderers (``actors.web``) turn it
into an email and a feed entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from actors.digests.periods import Frequency, Period
from actors.event_text import when_text
from actors.html import plain_text
from actors.schedule import occurrences

SHOWN = 10  # items per section
THREADS = 5  # the most active threads shown
EXCERPT = 240  # characters of a summary
# how far after the period's end "upcoming" events reach
HORIZON = {Frequency.WEEKLY: timedelta(days=21), Frequency.MONTHLY: timedelta(days=45)}


@dataclass(frozen=True)
class DigestItem:
    """A practice or a story, with a line of what it says (or of what changed)."""

    url: str
    title: str
    excerpt: str
    when: datetime
    note: str = ""  # a practice's status, or a revision's note


@dataclass(frozen=True)
class DigestEvent:
    url: str
    title: str
    start: datetime
    when: str  # in words, in the event's time zone
    place: str


@dataclass(frozen=True)
class DigestThread:
    url: str
    title: str
    replies: int


@dataclass(frozen=True)
class EventCandidate:
    """An event as the store has it: its first time, rule and place."""

    url: str
    title: str | None
    start: datetime
    end: datetime | None
    timezone: str
    rrule: str | None
    place: str


@dataclass(frozen=True)
class Digest:
    community_slug: str
    community_name: str
    community_url: str
    period: Period
    new_practices: tuple[DigestItem, ...] = ()
    revised_practices: tuple[DigestItem, ...] = ()
    stories: tuple[DigestItem, ...] = ()
    events: tuple[DigestEvent, ...] = ()
    threads: tuple[DigestThread, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """Nothing happened and nothing is coming: no digest is sent for this period."""
        return not (
            self.new_practices or self.revised_practices or self.stories or self.events
            or self.threads
        )  # fmt: skip

    @property
    def subject(self) -> str:
        return f"{self.community_name}: {self.period.label}"


def excerpt(summary: str | None, content_html: str | None) -> str:
    """A line for a list: the summary, else the start of the text."""
    text = (summary or "").strip() or plain_text(content_html or "", EXCERPT)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def upcoming(candidates: Sequence[EventCandidate], period: Period) -> tuple[DigestEvent, ...]:
    """The events (recurring ones by their next date) starting after ``period`` ends and
    within its horizon, soonest first."""
    until = period.end + HORIZON[period.frequency]
    found: list[DigestEvent] = []
    for c in candidates:
        next_ = occurrences(c.start, c.end, c.timezone, c.rrule, after=period.end, limit=1)
        if not next_ or not period.end <= next_[0].start < until:
            continue
        occurrence = next_[0]
        found.append(
            DigestEvent(
                url=c.url,
                title=c.title or "Event",
                start=occurrence.start,
                when=when_text(occurrence.start, occurrence.end, c.timezone),
                place=c.place,
            )
        )
    found.sort(key=lambda e: e.start)
    return tuple(found[:SHOWN])


@dataclass(frozen=True)
class Rendered:
    """An email's subject and its two bodies."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class ConfirmationLinks:
    """What a confirmation email links to, and for how long."""

    community_url: str
    frequency: str
    confirm_url: str
    forget_url: str  # "not you?": deletes the address at once
    valid_days: float
