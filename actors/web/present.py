"""What templates show: people by name, events by their local time, practices' history."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from actors.circles import Member
from actors.practices import STATUS_LABELS
from actors.schedule import NextOccurrences, Occurrence, describe, occurrences, zone_or_utc
from actors.store.models_practice import RevisionRow
from actors.store.pages_queries import EventFacts
from actors.store.participation import KnownActor
from actors.web.diffs import FieldChange, Hunk, field_changes, text_diff
from federation.intake import safe_url


@dataclass(frozen=True)
class Person:
    actor_id: str
    name: str
    handle: str | None
    url: str  # the profile page (or the actor id)


@dataclass(frozen=True)
class CirclesView:
    coordinators: tuple[Person, ...]
    core: tuple[tuple[Person, Member], ...]
    active: tuple[tuple[Person, Member], ...]
    more_core: int  # listed beyond max_listed
    more_active: int
    peripheral: int
    transactional: int
    window_days: int


def person(actor_id: str, known: Mapping[str, KnownActor]) -> Person:
    """Named as the actor's server names it; an actor never fetched, by its URL."""
    info = known.get(actor_id)
    fallback = actor_id.split("://", 1)[-1]
    if info is None:
        return Person(actor_id, fallback, None, actor_id)
    url = safe_url(info.url) or actor_id
    return Person(actor_id, info.name or info.handle or fallback, info.handle, url)


# URLs whose check the template filters remember (a community page links about 150)
CHECKED_URLS = 2048


@functools.lru_cache(maxsize=CHECKED_URLS)
def _checked(url: str) -> str | None:
    """``safe_url(url)``, remembered: pages link the same remote URLs at every view, and each
    check splits the URL (a few microseconds, and the standard library's own cache of 128
    splits does not hold a page's worth)."""
    return safe_url(url)


def _safe(value: object) -> str | None:
    # a plain str only: a subclass (Markup) is the value returned, and must stay its own
    return _checked(value) if type(value) is str else safe_url(value)


def href(value: object) -> str:
    """Template filter ``| href``: a URL from another server as a link target only when it
    is http(s) (federation/intake.py); anything else (``javascript:``, a line break) links
    nowhere. Every remote URL a template links goes through it, so an old row cannot fire."""
    return _safe(value) or "#"


def url_or_empty(value: object) -> str:
    """Template filter ``| safe_url``: the URL when it is http(s), else "" (to show it or
    leave it out)."""
    return _safe(value) or ""


def status_label(status: str | None, *, full: bool = False) -> str:
    """``Established practice`` (or in full: ``Emerging practice: being tried out``)."""
    if not status:
        return ""
    label = STATUS_LABELS.get(status, status.capitalize())
    return label if full else label.split(":", 1)[0]


def day(moment: datetime) -> str:
    """``Tue 3 Mar 2026``"""
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


DASH = "\u2013"  # an en dash, between times


def when(start: datetime, end: datetime | None) -> str:
    """``Tue 3 Mar 2026, 18:00-19:00 CET`` (an en dash; both ends in the event's zone)."""
    text = f"{day(start)}, {start:%H:%M}"
    if end is not None and end > start:
        same_day = end.date() == start.date()
        text += f"{DASH}{end:%H:%M}" if same_day else f" {DASH} {day(end)}, {end:%H:%M}"
    return f"{text} {start.tzname() or ''}".rstrip()


@dataclass(frozen=True)
class EventView:
    facts: EventFacts
    next: Occurrence | None
    upcoming: tuple[Occurrence, ...]
    recurrence: str | None  # in words
    timezone: str

    @property
    def when(self) -> str:
        tz = zone_or_utc(self.timezone)
        facts = self.facts
        shown = self.next or Occurrence(
            facts.start_time.astimezone(tz),
            facts.end_time.astimezone(tz) if facts.end_time else None,
        )
        return when(shown.start, shown.end)


def event_view(
    facts: EventFacts,
    now: datetime,
    *,
    count: int = 1,
    found: Sequence[Occurrence] | None = None,
) -> EventView:
    """An event with its next ``count`` occurrences (or those ``found`` already)."""
    if found is None:
        found = occurrences(
            facts.start_time,
            facts.end_time,
            facts.timezone,
            facts.rrule,
            after=now,
            limit=count,
        )
    tz = zone_or_utc(facts.timezone)
    return EventView(
        facts=facts,
        next=found[0] if found else None,
        upcoming=tuple(found),
        recurrence=describe(facts.rrule, facts.start_time.astimezone(tz)),
        timezone=tz.key,
    )


_NEXT = NextOccurrences()  # a memo (pure): each rule expanded once per meeting, not per view


def soonest(candidates: Sequence[EventFacts], now: datetime, limit: int) -> list[EventView]:
    """The ``limit`` events happening next (recurring ones by their next date)."""
    upcoming = []
    for f in candidates:
        found = _NEXT.get(f.start_time, f.end_time, f.timezone, f.rrule, now)
        if found is not None:
            upcoming.append((found, f))
    upcoming.sort(key=lambda entry: entry[0].start)
    return [event_view(f, now, found=[next_]) for next_, f in upcoming[:limit]]


@dataclass(frozen=True)
class RevisionView:
    revision: RevisionRow
    editor: Person | str
    fields: tuple[FieldChange, ...]
    hunks: tuple[Hunk, ...]
    first: bool


def _fields(rev: RevisionRow) -> dict[str, str | None]:
    return {"Title": rev.title, "Status": rev.status, "Summary": rev.summary}


def history(
    revisions: Sequence[RevisionRow], known: Mapping[str, KnownActor], *, limit: int = 50
) -> list[RevisionView]:
    """The last ``limit`` revisions, each against the one before it, newest first."""
    views = []
    for index in range(max(0, len(revisions) - limit), len(revisions)):
        rev = revisions[index]
        previous = revisions[index - 1] if index else None
        is_url = rev.editor.startswith(("https://", "http://"))
        editor: Person | str = person(rev.editor, known) if is_url else rev.editor
        if previous is None:
            views.append(RevisionView(rev, editor, (), (), first=True))
            continue
        views.append(
            RevisionView(
                rev,
                editor,
                tuple(field_changes(_fields(previous), _fields(rev))),
                tuple(text_diff(previous.source_markdown, rev.source_markdown)),
                first=False,
            )
        )
    return list(reversed(views))
