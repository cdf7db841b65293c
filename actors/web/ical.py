"""iCalendar (RFC 5545) of a community's events, for calendar apps to subscribe to.

Times are written in the event's own time zone (``DTSTART;TZID=Europe/Berlin``) with the
matching ``VTIMEZONE``, so recurring meetings keep their wall-clock time across daylight
saving; the ``UID`` is the event's id, stable across edits; ``DTSTAMP`` is when the event
last changed (the feed has no METHOD), so an unchanged calendar is byte-for-byte the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, vRecur, vUri

from actors.community import Community
from actors.html import plain_text
from actors.schedule import FREQUENCIES as SUPPORTED_FREQUENCIES
from actors.schedule import rule_parts, zone_or_utc
from federation.intake import safe_url

log = logging.getLogger(__name__)

PRODID = "-//copub//Communities of Practice//EN"
# what writing a stored event can raise (a value iCalendar cannot carry, a date out of range)
UNWRITABLE = (ValueError, TypeError, OverflowError)
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    url: str
    title: str
    description_html: str
    start: datetime  # aware
    end: datetime | None
    timezone: str
    rrule: str | None
    location: str | None
    online_url: str | None
    created: datetime
    updated: datetime | None = None
    sequence: int = 0


def _description(event: CalendarEvent, online: str | None) -> str:
    parts = [plain_text(event.description_html)]
    if online:
        parts.append(f"Online: {online}")
    parts.append(f"Details and participants: {event.url}")
    return "\n\n".join(p for p in parts if p)


def to_vevent(event: CalendarEvent) -> Event:
    """The VEVENT of an event; ValueError (or OverflowError) when a stored value cannot be
    written. URLs are written only when they are http(s) (federation/intake.py)."""
    online = safe_url(event.online_url)
    tz = zone_or_utc(event.timezone)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.updated or event.created)
    vevent.add("created", event.created)
    vevent.add("last-modified", event.updated or event.created)
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.title or "Event")
    vevent.add("dtstart", event.start.astimezone(tz))
    if event.end is not None and event.end > event.start:
        vevent.add("dtend", event.end.astimezone(tz))
    if event.rrule and rule_parts(event.rrule).get("FREQ") in SUPPORTED_FREQUENCIES:
        vevent.add("rrule", vRecur.from_ical(event.rrule.strip().removeprefix("RRULE:")))
    location = event.location or online
    if location:
        vevent.add("location", location)
    if online:
        vevent.add("conference", vUri(online), parameters={"VALUE": "URI"})
    if safe_url(event.url):
        vevent.add("url", vUri(event.url), parameters={"VALUE": "URI"})
    vevent.add("description", _description(event, online))
    vevent.add("status", "CONFIRMED")
    vevent.add("class", "PUBLIC")
    return vevent


def _calendar(name: str, description: str, url: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    if description:
        cal.add("description", description)
        cal.add("x-wr-caldesc", description)
    if url:
        cal.add("source", vUri(url), parameters={"VALUE": "URI"})
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")  # Outlook's and Apple's name for the same
    return cal


def _finish(cal: Calendar, events: Sequence[CalendarEvent]) -> bytes:
    if events:
        # VTIMEZONE transitions from the first event on, far enough ahead for recurrences
        first = min(e.start for e in events).date() - timedelta(days=1)
        last = date(min(max(e.start for e in events).year + 10, date.max.year), 1, 1)
        cal.add_missing_timezones(first_date=first, last_date=last)
    body: bytes = cal.to_ical()
    return body


def community_calendar(
    community: Community, events: Sequence[CalendarEvent], *, feed_url: str
) -> bytes:
    """Every event of the community: the feed a calendar app subscribes to. An event that
    cannot be written (a row stored before today's checks) is left out, and logged."""
    cal = _calendar(community.name, plain_text(community.summary), feed_url)
    written: list[CalendarEvent] = []
    for event in events:
        try:
            vevent = to_vevent(event)
        except UNWRITABLE as exc:
            log.warning("event %s left out of the calendar: %s", event.uid, exc)
            continue
        cal.add_component(vevent)
        written.append(event)
    return _finish(cal, written)


def event_calendar(community: Community, event: CalendarEvent) -> bytes:
    """One event, for an "add to calendar" link; one of UNWRITABLE when it cannot be."""
    cal = _calendar(f"{event.title} · {community.name}", "", None)
    cal.add_component(to_vevent(event))
    return _finish(cal, [event])
