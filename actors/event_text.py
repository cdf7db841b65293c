"""An event's facts in words, for people whose software shows only text (Mastodon)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Protocol

from actors.schedule import Occurrence

DASH = "\u2013"  # en dash, as in 18:00-20:00


class EventFacts(Protocol):
    """What the text needs of an event (``EventDraft`` has it)."""

    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def online_url(self) -> str | None: ...
    @property
    def rrule(self) -> str | None: ...
    def place_line(self) -> str: ...


def day_text(moment: datetime) -> str:
    """``Tuesday 1 December 2026``."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def short_day(moment: datetime) -> str:
    """``Tue 1 Dec 2026, 18:00``."""
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M}"


def zone_text(moment: datetime, timezone: str) -> str:
    """``Europe/Paris, UTC+01:00`` (the offset in force at that moment)."""
    offset = moment.strftime("%z")
    if timezone in ("UTC", "Etc/UTC") or not offset:
        return "UTC"
    return f"{timezone}, UTC{offset[:3]}:{offset[3:]}"


def when_text(start: datetime, end: datetime | None, timezone: str) -> str:
    """``Tuesday 1 December 2026, 18:00-20:00 (Europe/Paris, UTC+01:00)``, with an en dash."""
    zone = zone_text(start, timezone)
    if end is None:
        return f"{day_text(start)}, {start:%H:%M} ({zone})"
    if end.date() == start.date():
        return f"{day_text(start)}, {start:%H:%M}{DASH}{end:%H:%M} ({zone})"
    return f"{day_text(start)}, {start:%H:%M} {DASH} {day_text(end)}, {end:%H:%M} ({zone})"


def event_facts_html(event: EventFacts, meetings: Sequence[Occurrence]) -> str:
    """One paragraph: When, Where, Online, and the next meetings of a recurring event."""
    first = meetings[0] if meetings and event.rrule else None
    start, end = (first.start, first.end) if first else (event.start, event.end)
    lines = [f"When: {escape(when_text(start, end, event.timezone))}"]
    place = event.place_line()
    if place:
        lines.append(f"Where: {escape(place)}")
    if event.online_url:
        url = escape(event.online_url, quote=True)
        lines.append(f'Online: <a href="{url}">{escape(event.online_url)}</a>')
    if event.rrule:
        later = [short_day(m.start) for m in meetings[1:]]
        lines.append(
            "Recurring; next meetings: " + "; ".join(later)
            if later
            else "Recurring; no further meetings scheduled"
        )
    return "<p>" + "<br>".join(lines) + "</p>"
