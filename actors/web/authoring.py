"""The authoring API's payloads (ActivityPub client-to-server) read into drafts and changes.

Accepted: ``Create``, ``Update`` or ``Delete`` of a ``Note`` (story), ``Article`` (practice)
or ``Event`` (event), or a bare object (wrapped in Create, as the C2S spec allows). Text is
Markdown, in ``content`` or in ``source.content``. Every field is checked; InvalidContent
names the field as it is spelled in the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from actors.content import KIND_TO_TYPE, TYPE_TO_KIND, InvalidContent, ItemKind, StoryDraft
from actors.event_json import ONLINE_LINK_NAME
from actors.events import EventDraft, Place, check_url, event_time
from actors.practices import PracticeDraft
from actors.schedule import zone
from actors.values import ValueClaim
from federation.vocab import get_id, has_type, object_id_of, types_of

TYPES = frozenset(KIND_TO_TYPE.values())
Payload = dict[str, Any]


@dataclass(frozen=True)
class CreateItem:
    kind: ItemKind
    obj: Payload


@dataclass(frozen=True)
class UpdateItem:
    kind: ItemKind
    ref: str
    obj: Payload
    note: str | None  # the Update's ``summary``: what changed (a practice's history)


@dataclass(frozen=True)
class DeleteItem:
    ref: str


Operation = CreateItem | UpdateItem | DeleteItem


def text_field(obj: Payload, name: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise InvalidContent(name, f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise InvalidContent(name, f"'{name}' must be a string")
    return value


def _kind(obj: Payload) -> ItemKind:
    """The kind of item an object is, by its one type among ours (a string or a list)."""
    found = sorted(types_of(obj) & TYPES)
    if len(found) != 1:
        raise InvalidContent("type", f"the object's type must be one of {', '.join(TYPES)}")
    return TYPE_TO_KIND[found[0]]


def _object(activity: Payload) -> Payload:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        raise InvalidContent("object", "'object' must be an object with a 'type'")
    return obj


def parse_activity(body: Any) -> Operation:
    if not isinstance(body, dict):
        raise InvalidContent("type", "the body must be a JSON object")
    verbs = types_of(body)
    if verbs & TYPES:
        return CreateItem(_kind(body), body)
    if "Create" in verbs:
        obj = _object(body)
        return CreateItem(_kind(obj), obj)
    if "Update" in verbs:
        obj = _object(body)
        kind = _kind(obj)
        ref = get_id(obj)
        if not ref:
            raise InvalidContent("object.id", "an Update names the item it changes: 'id'")
        return UpdateItem(kind, ref, obj, text_field(body, "summary"))
    if "Delete" in verbs:
        ref = object_id_of(body)
        if not ref:
            raise InvalidContent("object", "a Delete names the item it deletes")
        return DeleteItem(ref)
    raise InvalidContent("type", "the type must be Create, Update, Delete, Note, Article or Event")


def markdown_of(obj: Payload, *, required: bool) -> str | None:
    """The Markdown text: ``source.content`` when given, else ``content``."""
    source = obj.get("source")
    if source is not None:
        if not isinstance(source, dict) or not isinstance(source.get("content"), str):
            raise InvalidContent("source", '\'source\' must be {"content": "..."}')
        media = source.get("mediaType", "text/markdown")
        if media not in ("text/markdown", "text/plain"):
            raise InvalidContent("source.mediaType", "the source must be text/markdown")
        return str(source["content"])
    return text_field(obj, "content", required=required)


def story_from(obj: Payload) -> StoryDraft:
    return StoryDraft(
        title=text_field(obj, "name", required=True) or "",
        markdown=markdown_of(obj, required=True) or "",
    )


VALUE_KEYS = ("valueCycle", "valueChanged", "valueFor", "valueAbout")


def claim_from(obj: Payload) -> ValueClaim | None:
    """A story's value-creation claim (``valueCycle``, ``valueChanged``, ``valueFor``,
    ``valueAbout``: URLs); None without ``valueCycle``. Checked by the domain."""
    cycle = text_field(obj, "valueCycle")
    about = obj.get("valueAbout", [])
    about = [about] if isinstance(about, str) else about
    if not isinstance(about, list) or not all(isinstance(a, str) for a in about):
        raise InvalidContent("valueAbout", "'valueAbout' is a URL or a list of URLs")
    changed, for_whom = text_field(obj, "valueChanged"), text_field(obj, "valueFor")
    if cycle is None:
        if changed or for_whom or about:
            raise InvalidContent("valueCycle", "a value-creation story names its 'valueCycle'")
        return None
    return ValueClaim(cycle, changed or "", for_whom or "", tuple(about))


def tags_from(obj: Payload) -> tuple[str, ...] | None:
    raw = obj.get("tag")
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    tags = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(item, dict) and item.get("type", "Hashtag") != "Hashtag":
            continue  # mentions and emoji are not a practice's tags
        if not isinstance(name, str):
            raise InvalidContent("tag", "each tag is a Hashtag with a 'name' (or a string)")
        tags.append(name)
    return tuple(tags)


def practice_fields(obj: Payload) -> dict[str, Any]:
    """The practice fields present in ``obj`` (the keyword arguments of edit_practice)."""
    fields: dict[str, Any] = {
        "title": text_field(obj, "name"),
        "summary": text_field(obj, "summary"),
        "markdown": markdown_of(obj, required=False),
        "tags": tags_from(obj),
        "status": text_field(obj, "creativeWorkStatus"),
    }
    return {k: v for k, v in fields.items() if v is not None}


def practice_from(obj: Payload) -> PracticeDraft:
    text_field(obj, "name", required=True)
    markdown_of(obj, required=True)
    fields = practice_fields(obj)
    return PracticeDraft(
        title=fields["title"],
        summary=fields.get("summary", ""),
        markdown=fields["markdown"],
        tags=fields.get("tags", ()),
        status=fields.get("status", "emerging"),
    )


def _locations(obj: Payload) -> tuple[Place | None, str | None] | None:
    """(place, online URL) from ``location`` (Place, VirtualLocation or a list) and
    Mobilizon's "Website" attachment; None when neither is in the payload."""
    if "location" not in obj and "attachment" not in obj:
        return None
    place: Place | None = None
    online: str | None = None
    raw = obj.get("location")
    for item in raw if isinstance(raw, list) else [] if raw is None else [raw]:
        if not isinstance(item, dict):
            raise InvalidContent("location", "'location' must be a Place or a VirtualLocation")
        if has_type(item, "VirtualLocation"):
            online = check_url(str(item.get("url") or ""), "location.url")
            continue
        address = item.get("address") or {}
        if not isinstance(address, dict):
            raise InvalidContent("location.address", "'address' must be a PostalAddress")
        parts = {
            "name": item.get("name"),
            "street": address.get("streetAddress"),
            "locality": address.get("addressLocality"),
            "postal_code": address.get("postalCode"),
            "country": address.get("addressCountry"),
        }
        if any(v is not None and not isinstance(v, str) for v in parts.values()):
            raise InvalidContent("location", "the place's name and address are strings")
        place = Place(**{k: (v or "").strip() for k, v in parts.items()})
    attachments = obj.get("attachment")
    for item in attachments if isinstance(attachments, list) else [attachments]:
        if isinstance(item, dict) and item.get("name") == ONLINE_LINK_NAME:
            online = check_url(str(item.get("href") or ""), "attachment")
    return place, online


def _capacity(obj: Payload) -> int | None:
    value = obj.get("maximumAttendeeCapacity")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidContent("maximumAttendeeCapacity", "the capacity must be a whole number")
    return value


def event_change(obj: Payload, default_timezone: str) -> Callable[[EventDraft], EventDraft]:
    """The changes ``obj`` makes to an event (fields absent: kept; null: cleared)."""
    timezone = text_field(obj, "timezone")
    start = text_field(obj, "startTime")
    end = text_field(obj, "endTime")
    title = text_field(obj, "name")
    markdown = markdown_of(obj, required=False)
    places = _locations(obj)
    join_mode = text_field(obj, "joinMode")
    rule = text_field(obj, "rrule")
    capacity = _capacity(obj)
    comments = obj.get("commentsEnabled")
    if comments is not None and not isinstance(comments, bool):
        raise InvalidContent("commentsEnabled", "'commentsEnabled' is true or false")

    def change(draft: EventDraft) -> EventDraft:
        tz = timezone or draft.timezone
        new = replace(draft, timezone=tz, start=draft.start.astimezone(zone(tz)))
        if start is not None:
            new = replace(new, start=event_time(start, tz, "startTime"))
        if end is not None or ("endTime" in obj and obj["endTime"] is None):
            new = replace(new, end=event_time(end, tz, "endTime") if end else None)
        if title is not None:
            new = replace(new, title=title)
        if markdown is not None:
            new = replace(new, markdown=markdown)
        if places is not None:
            new = replace(new, place=places[0], online_url=places[1])
        if join_mode is not None:
            new = replace(new, join_mode=join_mode)
        if rule is not None or ("rrule" in obj and obj["rrule"] is None):
            new = replace(new, rrule=rule or None)
        if "maximumAttendeeCapacity" in obj:
            new = replace(new, capacity=capacity)
        if comments is not None:
            new = replace(new, comments_enabled=comments)
        return new

    # the timezone is checked here, so a bad one is reported even before the event is read
    zone(timezone or default_timezone)
    return change


def event_from(obj: Payload, default_timezone: str) -> EventDraft:
    text_field(obj, "name", required=True)
    start = text_field(obj, "startTime", required=True) or ""
    timezone = text_field(obj, "timezone") or default_timezone
    blank = EventDraft(
        title="",
        markdown="",
        start=event_time(start, timezone, "startTime"),
        timezone=timezone,
    )
    return event_change(obj, default_timezone)(blank)
