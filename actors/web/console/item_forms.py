"""The write forms of the console: what a coordinator typed, as the drafts ``actors.publishing``
publishes, and a published item back as the form's values. Pure: no I/O.

Values are the form's fields as text (kept as typed when the form comes back with an
error). A field that is wrong raises ``InvalidContent`` naming the form's field (the
domain's AS2 names are mapped by :func:`field_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from actors.content import InvalidContent, ItemKind, StoryDraft
from actors.events import JOIN_MODES, EventDraft, Place, check_url, event_time
from actors.practices import STATUSES, PracticeDraft
from actors.publishing import current_claim, current_event, current_practice
from actors.schedule import zone, zone_or_utc
from actors.store.models import ObjectRow
from actors.values import ValueClaim
from actors.web.console import repeat

Values = dict[str, str]
Draft = StoryDraft | PracticeDraft | EventDraft

KINDS = (ItemKind.STORY, ItemKind.PRACTICE, ItemKind.EVENT)
PLACE_FIELDS = ("location_name", "street", "locality", "postal_code", "country")
FIELDS: dict[str, tuple[str, ...]] = {
    ItemKind.STORY: ("title", "markdown", "cycle", "changed", "for_whom", "about"),
    ItemKind.PRACTICE: ("title", "summary", "markdown", "tags", "status", "note"),
    ItemKind.EVENT: (
        "title", "markdown", "start", "end", "timezone", *PLACE_FIELDS, "online_url",
        "capacity", "join_mode", "repeat", "rrule",
    ),
}  # fmt: skip
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # what <input type=datetime-local> sends and shows

# the domain names a field by its AS2 name; the form by its own
_FORM_FIELD = {
    "name": "title",
    "content": "markdown",
    "summary": "summary",
    "tag": "tags",
    "creativeWorkStatus": "status",
    "startTime": "start",
    "endTime": "end",
    "timezone": "timezone",
    "location": "location_name",
    "maximumAttendeeCapacity": "capacity",
    "joinMode": "join_mode",
    "rrule": "rrule",
    "valueCycle": "cycle",
    "valueChanged": "changed",
    "valueFor": "for_whom",
    "valueAbout": "about",
}


def field_of(error: InvalidContent) -> str:
    """The form field an ``InvalidContent`` is about."""
    return _FORM_FIELD.get(error.field, error.field)


def read(kind: str, form: Mapping[str, Any]) -> Values:
    """The kind's fields from a posted form, as text ("" for a missing one)."""
    values = {}
    for name in FIELDS[kind]:
        value = form.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


def blank(kind: str, default_timezone: str) -> Values:
    values = dict.fromkeys(FIELDS[kind], "")
    if kind == ItemKind.PRACTICE:
        values["status"] = STATUSES[0]
    if kind == ItemKind.EVENT:
        values.update(timezone=default_timezone, join_mode=JOIN_MODES[0])
    return values


# -- values -> drafts ------------------------------------------------------------------------


def tags_of(text: str) -> tuple[str, ...]:
    """``insulin, #night-shift safety`` -> the tags as typed (normalised by the domain)."""
    return tuple(t for t in re.split(r"[\s,]+", text) if t)


def story(values: Values) -> StoryDraft:
    return StoryDraft(title=values["title"], markdown=values["markdown"])


def claim(values: Values) -> ValueClaim | None:
    """The story's value-creation claim (None: "not a value-creation story"); the items it
    is about one a line (URLs, or ids of this community's items)."""
    if not values["cycle"]:
        return None
    about = tuple(line.strip() for line in values["about"].splitlines() if line.strip())
    return ValueClaim(values["cycle"], values["changed"], values["for_whom"], about)


def practice(values: Values) -> PracticeDraft:
    return PracticeDraft(
        title=values["title"],
        summary=values["summary"],
        markdown=values["markdown"],
        tags=tags_of(values["tags"]),
        status=values["status"],
    )


def _capacity(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidContent("capacity", "the capacity is a whole number (or empty: no limit)")
    return int(text)


def _rule(values: Values, start: datetime) -> str | None:
    choice = values["repeat"]
    if choice == repeat.CUSTOM:
        if not values["rrule"].strip():
            raise InvalidContent("rrule", "type the rule, or choose how often it repeats")
        return values["rrule"]
    if choice not in repeat.CHOICES:
        raise InvalidContent("repeat", "choose one of the offered repetitions")
    return repeat.rule_for(choice, start)


def event(values: Values) -> EventDraft:
    """The event the form describes (checked by ``actors.events.validate_event`` when it
    is published); a time, zone or online link that is wrong is refused here already."""
    timezone = values["timezone"].strip()
    zone(timezone)  # InvalidContent("timezone")
    if not values["start"].strip():
        raise InvalidContent("start", "when does it start?")
    start = event_time(values["start"], timezone, "startTime")
    end = event_time(values["end"], timezone, "endTime") if values["end"].strip() else None
    online = values["online_url"].strip()
    place = Place(**{_place_attr(name): values[name].strip() for name in PLACE_FIELDS})
    return EventDraft(
        title=values["title"],
        markdown=values["markdown"],
        start=start,
        timezone=timezone,
        end=end,
        place=None if place.is_empty() else place,
        online_url=check_url(online, "online_url") if online else None,
        capacity=_capacity(values["capacity"]),
        join_mode=values["join_mode"],
        rrule=_rule(values, start),
    )


def _place_attr(field: str) -> str:
    return "name" if field == "location_name" else field


def event_change(values: Values) -> Callable[[EventDraft], EventDraft]:
    """The edit ``actors.publishing.edit_event`` applies: the form's event, keeping what
    the form does not show (whether comments are open)."""
    new = event(values)
    return lambda old: replace(new, comments_enabled=old.comments_enabled)


# -- items -> values -------------------------------------------------------------------------


def local_time(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(zone_or_utc(timezone)).strftime(LOCAL_TIME) if moment else ""


def values_of(row: ObjectRow) -> Values:
    """A published item as its form's values."""
    if row.kind == ItemKind.PRACTICE:
        draft = current_practice(row)
        return {
            "title": draft.title, "summary": draft.summary, "markdown": draft.markdown,
            "tags": ", ".join(draft.tags), "status": draft.status, "note": "",
        }  # fmt: skip
    if row.kind == ItemKind.EVENT:
        return event_values(current_event(row))
    told = current_claim(row) or ValueClaim("")
    return {
        "title": row.title or "", "markdown": row.source_markdown or "", "cycle": told.cycle,
        "changed": told.changed, "for_whom": told.for_whom, "about": "\n".join(told.about),
    }  # fmt: skip


def event_values(draft: EventDraft) -> Values:
    place = draft.place or Place()
    start = draft.start.astimezone(zone_or_utc(draft.timezone))
    choice = repeat.choice_of(draft.rrule, start)
    return {
        "title": draft.title,
        "markdown": draft.markdown,
        "start": local_time(draft.start, draft.timezone),
        "end": local_time(draft.end, draft.timezone),
        "timezone": draft.timezone,
        **{name: getattr(place, _place_attr(name)) for name in PLACE_FIELDS},
        "online_url": draft.online_url or "",
        "capacity": str(draft.capacity) if draft.capacity else "",
        "join_mode": draft.join_mode,
        "repeat": choice,
        "rrule": (draft.rrule or "") if choice == repeat.CUSTOM else "",
    }


def start_of(values: Values) -> datetime | None:
    """The start the form names, if it names one (to offer repetitions in words)."""
    try:
        return event_time(values.get("start", ""), values.get("timezone") or "UTC", "startTime")
    except InvalidContent:
        return None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The IANA zones offered (Area/Location names and UTC), sorted."""
    names = {
        n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    }
    return ("UTC", *sorted(names))
