"""Events (meetings, workshops): what a coordinator schedules, checked before it is sent.

The ``Event`` on the wire is ``actors.event_json``; the words people read, ``actors.event_text``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from actors.content import InvalidContent, require_text, require_title
from actors.schedule import Occurrence, occurrences, validate_rrule, zone
from actors.store.models_practice import EventDetailRow
from federation.clock import parse_iso_time
from federation.intake import DEFAULT_LIMITS, in_date_range, safe_url

JOIN_MODES = ("free", "restricted", "invite")
MAX_CAPACITY = 1_000_000
NEXT_SHOWN = 3  # upcoming meetings of a recurring event named in its text


@dataclass(frozen=True)
class Place:
    name: str = ""
    street: str = ""
    locality: str = ""
    postal_code: str = ""
    country: str = ""

    def is_empty(self) -> bool:
        return not any((self.name, self.street, self.locality, self.postal_code, self.country))

    def one_line(self) -> str:
        town = " ".join(p for p in (self.postal_code, self.locality) if p)
        return ", ".join(p for p in (self.name, self.street, town, self.country) if p)


@dataclass(frozen=True)
class EventDraft:
    title: str
    markdown: str
    start: datetime  # aware
    timezone: str
    end: datetime | None = None
    place: Place | None = None
    online_url: str | None = None
    capacity: int | None = None
    join_mode: str = "free"
    rrule: str | None = None
    comments_enabled: bool = True

    def place_line(self) -> str:
        return self.place.one_line() if self.place is not None else ""


def event_time(value: str, timezone: str, field: str) -> datetime:
    """``2026-12-01T18:00`` (wall clock in ``timezone``) or with an offset; aware, in the
    event's zone. InvalidContent(``field``) if it is not a date and time."""
    tz = zone(timezone)
    moment = parse_iso_time(value, tz)
    if moment is None:
        raise InvalidContent(field, f"{value!r} is not a date and time like 2026-12-01T18:00")
    return moment.astimezone(tz)  # normalises a skipped hour


def check_url(value: str, field: str) -> str:
    """An http(s) URL as typed (surrounding spaces trimmed); InvalidContent otherwise, also
    for any whitespace or control character inside it (federation/intake.py)."""
    url = safe_url(value.strip())
    if url is None:
        raise InvalidContent(field, f"{value!r} is not an http(s) URL")
    return url


def check_time(moment: datetime, field: str) -> datetime:
    """``moment`` if it lies within the sane years (``[limits]``), else InvalidContent."""
    limits = DEFAULT_LIMITS
    if not in_date_range(moment, limits, now=datetime.now(UTC)):
        raise InvalidContent(
            field,
            f"{moment.year} is outside the years {limits.min_year} to "
            f"{limits.max_years_ahead} years from now",
        )
    return moment


def validate_event(draft: EventDraft) -> EventDraft:
    """The draft with its fields checked and normalised; InvalidContent names the field."""
    tz = zone(draft.timezone)
    start = check_time(draft.start, "startTime").astimezone(tz)
    end = check_time(draft.end, "endTime").astimezone(tz) if draft.end is not None else None
    if end is not None and end <= start:
        raise InvalidContent("endTime", "the event must end after it starts")
    if draft.join_mode not in JOIN_MODES:
        raise InvalidContent("joinMode", f"the join mode must be one of {', '.join(JOIN_MODES)}")
    if draft.capacity is not None and not 0 < draft.capacity <= MAX_CAPACITY:
        raise InvalidContent("maximumAttendeeCapacity", "the capacity must be a positive number")
    place = draft.place if draft.place is not None and not draft.place.is_empty() else None
    for name, value in vars(place or Place()).items():
        if len(value) > 300:
            raise InvalidContent("location", f"the place's {name} is too long")
    return replace(
        draft,
        title=require_title(draft.title),
        markdown=require_text(draft.markdown, required=False),
        start=start,
        end=end,
        place=place,
        online_url=check_url(draft.online_url, "location") if draft.online_url else None,
        rrule=validate_rrule(draft.rrule, start) if draft.rrule else None,
    )


def next_meetings(draft: EventDraft, now: datetime) -> list[Occurrence]:
    return occurrences(
        draft.start, draft.end, draft.timezone, draft.rrule, after=now, limit=NEXT_SHOWN
    )


def detail_row(object_id: int, draft: EventDraft) -> EventDetailRow:
    """The queryable fields of an event, for pages, the calendar feed and participation."""
    return EventDetailRow(
        object_id=object_id,
        start_time=draft.start,
        end_time=draft.end,
        timezone=draft.timezone,
        rrule=draft.rrule,
        location_name=draft.place_line()[:500] or None,
        online_url=draft.online_url,
        join_mode=draft.join_mode,
        capacity=draft.capacity,
    )
