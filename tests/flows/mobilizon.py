"""Mobilizon-shaped activities, as Mobilizon 4/5 sends them (lib/federation/activity_stream/
converter/event.ex and participant.ex): a public Event with its inline context, Join and
Leave of an event, and Undo(Join) as other software sends it.

A ``Person`` of the test's RemoteServer plays the Mobilizon account; its activities are
signed and posted with ``remote.post(person, inbox, activity)``.
"""

from __future__ import annotations

import uuid
from typing import Any

from federation.loader import inline_context
from federation.vocab import AS_CONTEXT, JSON, PUBLIC
from tests.flows.mastodon import Person


def event(
    person: Person,
    *,
    name: str = "Night shift meetup",
    start: str = "2031-03-04T19:00:00+01:00",
    end: str = "2031-03-04T21:00:00+01:00",
    timezone: str = "Europe/Paris",
    to: list[str] | None = None,
    online: str | None = "https://visio.example/room",
    mention: tuple[str, str] | None = None,
) -> JSON:
    """A Mobilizon Event (the ``object`` of its Create), organised by ``person``."""
    event_id = f"{person.base_url}/events/{uuid.uuid4()}"
    tags: list[JSON] = [
        {"type": "Hashtag", "name": "#nursing", "href": f"{person.base_url}/tags/nursing"}
    ]
    if mention is not None:
        tags.append({"type": "Mention", "href": mention[0], "name": f"@{mention[1]}"})
    obj: JSON = {
        "type": "Event",
        "id": event_id,
        "url": event_id,
        "uuid": event_id.rsplit("/", 1)[-1],
        "to": to or [PUBLIC],
        "cc": [person.followers],
        "attributedTo": person.id,
        "actor": person.id,
        "name": name,
        "category": "MEETING",
        "content": "<p>Bring your hardest cases.</p>",
        "mediaType": "text/html",
        "published": "2031-02-01T10:00:00Z",
        "updated": "2031-02-01T10:00:00Z",
        "startTime": start,
        "endTime": end,
        "timezone": timezone,
        "joinMode": "free",
        "externalParticipationUrl": None,
        "tag": tags,
        "maximumAttendeeCapacity": 0,
        "remainingAttendeeCapacity": None,
        "participantCount": 1,
        "repliesModerationOption": "allow_all",
        "commentsEnabled": True,
        "anonymousParticipationEnabled": False,
        "attachment": [],
        "draft": False,
        "ical:status": "CONFIRMED",
        "status": "CONFIRMED",
        "inLanguage": "en",
        "contacts": [],
        "isOnline": online is not None,
        "location": {
            "type": "Place",
            "name": "Salle des infirmières",
            "id": f"{person.base_url}/address/{uuid.uuid4()}",
            "address": {
                "type": "PostalAddress",
                "streetAddress": "3 rue de l'Hôpital",
                "postalCode": "69003",
                "addressLocality": "Lyon",
                "addressRegion": "Auvergne-Rhône-Alpes",
                "addressCountry": "France",
            },
            "latitude": 45.76,
            "longitude": 4.85,
        },
    }
    if online is not None:
        obj["attachment"] = [
            {"type": "Link", "href": online, "mediaType": "text/html", "name": "Website"}
        ]
    return obj


def create(person: Person, obj: JSON, *, also_to: tuple[str, ...] = ()) -> JSON:
    """Mobilizon's Create: its JSON-LD header, the object's audience (plus ``also_to``)."""
    return {
        "@context": inline_context("mobilizon"),
        "type": "Create",
        "id": obj["id"] + "/activity",
        "actor": person.id,
        "attributedTo": person.id,
        "to": [*obj["to"], *also_to],
        "cc": obj["cc"],
        "published": "2031-02-01T10:00:00Z",
        "object": obj,
    }


def update(person: Person, obj: JSON) -> JSON:
    return {
        "@context": inline_context("mobilizon"),
        "type": "Update",
        "id": f"{obj['id']}/update/{uuid.uuid4()}",
        "actor": person.id,
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def join(person: Person, event_id: str) -> JSON:
    """A participation request (participant.ex): the Join's id is the participation's URL."""
    return {
        "@context": inline_context("mobilizon"),
        "type": "Join",
        "id": f"{person.base_url}/join/event/{uuid.uuid4()}",
        "actor": person.id,
        "object": event_id,
        "participationMessage": None,
        "to": [PUBLIC],
        "cc": [],
    }


def leave(person: Person, event_id: str) -> JSON:
    return {
        "@context": inline_context("mobilizon"),
        "type": "Leave",
        "id": f"{person.base_url}/leave/event/{uuid.uuid4()}",
        "actor": person.id,
        "object": event_id,
        "to": [PUBLIC],
        "cc": [],
    }


def undo(person: Person, inner: JSON, *, embed: bool = True) -> JSON:
    body: Any = {k: v for k, v in inner.items() if k != "@context"} if embed else inner["id"]
    return {
        "@context": AS_CONTEXT,
        "type": "Undo",
        "id": f"{inner['id']}/undo",
        "actor": person.id,
        "object": body,
    }
