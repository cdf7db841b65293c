"""Events <-> ``Event`` as Mobilizon and FEP-8a8e shape it.

Mastodon shows an ``Event`` as its ``name``, its ``summary`` and a link; it ignores
``startTime`` and ``location``. So the summary (and the start of ``content``, for software
that reads content) says in words when and where: date, time with its time zone, place,
online link, and the next meetings of a recurring event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actors.content import InvalidContent, base_object
from actors.event_text import event_facts_html
from actors.events import JOIN_MODES, EventDraft, Place, event_time, next_meetings
from actors.html import markdown_to_html
from actors.schedule import validate_rrule
from actors.urls import Urls
from federation.clock import zone_named
from federation.intake import DEFAULT_LIMITS, Limits, bounded, in_date_range, safe_url
from federation.vocab import AS_CONTEXT, JSON, has_type, types_of

EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        # Mobilizon's terms, as Mobilizon defines them inline
        "sc": "http://schema.org#",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "pt": "https://joinpeertube.org/ns#",
        "mz": "https://joinmobilizon.org/ns#",
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "addressRegion": "sc:addressRegion",
        "postalCode": "sc:postalCode",
        "addressLocality": "sc:addressLocality",
        "streetAddress": "sc:streetAddress",
        "commentsEnabled": {"@type": "sc:Boolean", "@id": "pt:commentsEnabled"},
        "repliesModerationOption": {"@id": "mz:repliesModerationOption"},
        "joinMode": {"@id": "mz:joinMode"},
        "anonymousParticipationEnabled": {
            "@id": "mz:anonymousParticipationEnabled",
            "@type": "sc:Boolean",
        },
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "isOnline": {"@type": "sc:Boolean", "@id": "mz:isOnline"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        # FEP-8a8e: the collection of accepted participants
        "attendees": {"@id": "https://w3id.org/fep/8a8e/attendees", "@type": "@id"},
        # iCalendar's recurrence rule (RFC 5545 RRULE text)
        "rrule": "ical:rrule",
    },
]

ONLINE_LINK_NAME = "Website"  # how Mobilizon names an event's online address


def place_to_as2(place: Place) -> JSON:
    location: JSON = {"type": "Place", "name": place.name or place.one_line()}
    address = {
        "streetAddress": place.street,
        "addressLocality": place.locality,
        "postalCode": place.postal_code,
        "addressCountry": place.country,
    }
    if any(address.values()):
        location["address"] = {"type": "PostalAddress", **address}
    return location


def _text(value: Any) -> str:
    return value.strip()[:300] if isinstance(value, str) else ""


def place_from_as2(location: Any) -> Place | None:
    """A Place as Mobilizon (PostalAddress) or Gancio (address as text) sends it."""
    candidates = bounded(location, DEFAULT_LIMITS.max_list_items)
    objects = (x for x in candidates if isinstance(x, dict))
    location = next((x for x in objects if has_type(x, "Place") or not types_of(x)), None)
    if not isinstance(location, dict):
        return None
    address = location.get("address")
    if isinstance(address, dict):
        place = Place(
            name=_text(location.get("name")),
            street=_text(address.get("streetAddress")),
            locality=_text(address.get("addressLocality")),
            postal_code=_text(address.get("postalCode")),
            country=_text(address.get("addressCountry")),
        )
    else:
        place = Place(name=_text(location.get("name")), street=_text(address))
    return None if place.is_empty() else place


def online_url_of(obj: JSON, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """The online address: Mobilizon's "Website" link, or a virtual location's URL; only
    an http(s) URL (federation/intake.py): anything else is no address at all."""
    for item in bounded(obj.get("attachment"), limits.max_attachments):
        if has_type(item, "Link") and item.get("name") == ONLINE_LINK_NAME:
            return safe_url(item.get("href"), max_length=limits.max_url_length)
    for item in bounded(obj.get("location"), limits.max_list_items):
        if has_type(item, "VirtualLocation"):
            return safe_url(item.get("url") or item.get("href"), max_length=limits.max_url_length)
    return None


def event_to_json(
    *,
    urls: Urls,
    slug: str,
    oid: str,
    draft: EventDraft,
    published: datetime,
    now: datetime,
    participant_count: int = 0,
    updated: datetime | None = None,
) -> JSON:
    facts = event_facts_html(draft, next_meetings(draft, now))
    event: JSON = {"@context": EVENT_CONTEXT}
    event.update(base_object(urls, slug, oid, "Event", published, updated))
    event.update(
        {
            "name": draft.title,
            "summary": facts,
            "content": facts + markdown_to_html(draft.markdown),
            "mediaType": "text/html",
            "source": {"content": draft.markdown, "mediaType": "text/markdown"},
            "startTime": draft.start.isoformat(timespec="seconds"),
            "timezone": draft.timezone,
            "joinMode": draft.join_mode,
            "participantCount": participant_count,
            "attendees": urls.object_participants(slug, oid),
            "commentsEnabled": draft.comments_enabled,
            "repliesModerationOption": "allow_all" if draft.comments_enabled else "closed",
            "anonymousParticipationEnabled": False,
            "isOnline": draft.online_url is not None,
            "ical:status": "CONFIRMED",
            "tag": [],
        }
    )
    if draft.end is not None:
        event["endTime"] = draft.end.isoformat(timespec="seconds")
    if draft.place is not None:
        event["location"] = place_to_as2(draft.place)
    if draft.online_url is not None:
        event["attachment"] = [
            {
                "type": "Link",
                "href": draft.online_url,
                "mediaType": "text/html",
                "name": ONLINE_LINK_NAME,
            }
        ]
    if draft.capacity is not None:
        event["maximumAttendeeCapacity"] = draft.capacity
        event["remainingAttendeeCapacity"] = max(0, draft.capacity - participant_count)
    if draft.rrule:
        event["rrule"] = draft.rrule
    return event


def with_participant_count(event: JSON, count: int) -> JSON:
    """The stored Event with a new ``participantCount`` (a new dict, so the JSON column
    sees the change)."""
    updated = dict(event)
    updated["participantCount"] = count
    capacity = updated.get("maximumAttendeeCapacity")
    if isinstance(capacity, int):
        updated["remainingAttendeeCapacity"] = max(0, capacity - count)
    return updated


def draft_from_event(event: JSON, markdown: str) -> EventDraft:
    """The draft an Event we published was made from (to edit it)."""
    timezone = str(event.get("timezone") or "UTC")
    capacity = event.get("maximumAttendeeCapacity")
    rule = event.get("rrule")
    return EventDraft(
        title=str(event.get("name") or ""),
        markdown=markdown,
        start=event_time(str(event["startTime"]), timezone, "startTime"),
        end=event_time(str(event["endTime"]), timezone, "endTime")
        if event.get("endTime")
        else None,
        timezone=timezone,
        place=place_from_as2(event.get("location")),
        online_url=online_url_of(event),
        capacity=capacity if isinstance(capacity, int) else None,
        join_mode=str(event.get("joinMode") or "free"),
        rrule=rule if isinstance(rule, str) else None,
        comments_enabled=event.get("commentsEnabled") is not False,
    )


def remote_event_draft(obj: JSON, limits: Limits = DEFAULT_LIMITS) -> EventDraft | None:
    """What we can read of an Event from Mobilizon, Gancio or another copub: its time, zone,
    place, online address, capacity and rule; None without a readable ``startTime`` within
    the sane years (``[limits]``). Values we cannot read are left out rather than refused:
    the event is someone else's."""
    timezone = obj.get("timezone")
    if not isinstance(timezone, str) or zone_named(timezone) is None:
        timezone = "UTC"
    try:
        start = event_time(str(obj.get("startTime")), timezone, "startTime")
    except InvalidContent:
        return None
    now = datetime.now(UTC)
    if not in_date_range(start, limits, now=now):
        return None
    try:
        end = event_time(str(obj["endTime"]), timezone, "endTime") if obj.get("endTime") else None
    except InvalidContent:
        end = None
    if end is not None and not in_date_range(end, limits, now=now):
        end = None
    rule = obj.get("rrule")
    try:
        rule = validate_rrule(rule, start) if isinstance(rule, str) and rule else None
    except InvalidContent:
        rule = None
    capacity = obj.get("maximumAttendeeCapacity")
    mode = obj.get("joinMode")
    return EventDraft(
        title=str(obj.get("name") or "")[:500],
        markdown="",
        start=start,
        end=end if end is not None and end > start else None,
        timezone=timezone,
        place=place_from_as2(obj.get("location")),
        online_url=online_url_of(obj, limits),
        capacity=capacity if isinstance(capacity, int) and capacity > 0 else None,
        join_mode=mode if mode in JOIN_MODES else "free",
        rrule=rule,
    )
