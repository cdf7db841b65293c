"""Practices and events on the wire: what Mastodon shows, what Mobilizon reads, and every
extension term defined in the inline context (checked by JSON-LD expansion, offline)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from actors.content import InvalidContent
from actors.event_json import draft_from_event, event_to_json, remote_event_draft
from actors.events import EventDraft, Place, event_time, validate_event
from actors.practices import PracticeDraft, practice_to_article, validate_practice
from actors.urls import Urls
from federation.jsonld import expand
from tests.flows import mobilizon
from tests.flows.mastodon import Person

URLS = Urls("https://cop.test")
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SCHEMA = "http://schema.org#"
MZ = "https://joinmobilizon.org/ns#"


def insulin() -> PracticeDraft:
    return validate_practice(
        PracticeDraft(
            title="Double-check protocol for insulin",
            summary="Two nurses read the dose aloud.\n\nBefore every night dose.",
            markdown="1. Read the order\n2. Read it *again*",
            tags=("#Insulin", "safety", "insulin"),
            status="Established",
        )
    )


def review() -> EventDraft:
    tz = "Europe/Paris"
    return validate_event(
        EventDraft(
            title="Monthly case review",
            markdown="Bring one case.",
            start=event_time("2026-12-01T18:00", tz, "startTime"),
            end=event_time("2026-12-01T20:00", tz, "endTime"),
            timezone=tz,
            place=Place("Room 4", "12 rue de la Paix", "Paris", "75002", "FR"),
            online_url="https://visio.example/review",
            capacity=12,
            rrule="FREQ=MONTHLY;BYDAY=1TU",
        )
    )


def expanded_terms(document: dict[str, Any]) -> set[str]:
    [node] = expand(document)
    return set(node)


def test_practice_is_an_article_mastodon_can_show() -> None:
    article = practice_to_article(
        urls=URLS, slug="nightshift", oid="p1", draft=insulin(), published=NOW
    )
    assert article["type"] == "Article"
    assert article["name"] == "Double-check protocol for insulin"
    # Mastodon shows name, summary and url of an Article: the gist and the status are there
    assert article["summary"] == (
        "<p>Two nurses read the dose aloud.</p><p>Before every night dose.</p>"
        "<p><em>Established practice</em></p>"
    )
    assert article["url"] == article["id"] == "https://cop.test/c/nightshift/o/p1"
    assert "<em>again</em>" in article["content"]
    assert article["source"] == {"content": "1. Read the order\n2. Read it *again*",
                                 "mediaType": "text/markdown"}  # fmt: skip
    assert article["creativeWorkStatus"] == "established"
    assert article["tag"] == [
        {"type": "Hashtag", "name": "#insulin",
         "href": "https://cop.test/c/nightshift/tags/insulin"},
        {"type": "Hashtag", "name": "#safety", "href": "https://cop.test/c/nightshift/tags/safety"},
    ]  # fmt: skip


def test_every_term_of_an_article_is_defined() -> None:
    article = practice_to_article(
        urls=URLS, slug="nightshift", oid="p1", draft=insulin(), published=NOW
    )
    terms = expanded_terms(article)
    assert f"{SCHEMA}creativeWorkStatus" in terms
    assert len(terms) == len(set(article) - {"@context"})  # nothing dropped as unknown


def test_event_carries_mobilizon_terms_and_readable_facts() -> None:
    event = event_to_json(
        urls=URLS, slug="nightshift", oid="e1", draft=review(), published=NOW, now=NOW,
        participant_count=3,
    )  # fmt: skip
    assert event["type"] == "Event"
    assert event["startTime"] == "2026-12-01T18:00:00+01:00"
    assert event["endTime"] == "2026-12-01T20:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    assert event["location"] == {
        "type": "Place",
        "name": "Room 4",
        "address": {"type": "PostalAddress", "streetAddress": "12 rue de la Paix",
                    "addressLocality": "Paris", "postalCode": "75002", "addressCountry": "FR"},
    }  # fmt: skip
    assert event["attachment"] == [{"type": "Link", "href": "https://visio.example/review",
                                    "mediaType": "text/html", "name": "Website"}]  # fmt: skip
    assert event["isOnline"] is True
    assert event["joinMode"] == "free"
    assert event["maximumAttendeeCapacity"] == 12
    assert event["participantCount"] == 3
    assert event["remainingAttendeeCapacity"] == 9
    assert event["commentsEnabled"] is True
    assert event["rrule"] == "FREQ=MONTHLY;BYDAY=1TU"
    assert event["attendees"] == "https://cop.test/c/nightshift/o/e1/participants"
    # Mastodon shows name + summary + link: the summary says when, where and what next
    summary = event["summary"]
    assert "When: Tuesday 1 December 2026, 18:00\u201320:00 (Europe/Paris, UTC+01:00)" in summary
    assert "Where: Room 4, 12 rue de la Paix, 75002 Paris, FR" in summary
    assert 'Online: <a href="https://visio.example/review">' in summary
    assert "next meetings: Tue 5 Jan 2027, 18:00; Tue 2 Feb 2027, 18:00" in summary
    assert event["content"].startswith(summary)
    assert "Bring one case." in event["content"]


def test_every_term_of_an_event_is_defined() -> None:
    event = event_to_json(
        urls=URLS, slug="nightshift", oid="e1", draft=review(), published=NOW, now=NOW
    )
    terms = expanded_terms(event)
    for iri in (
        f"{SCHEMA}maximumAttendeeCapacity",
        f"{SCHEMA}location",
        f"{MZ}timezone",
        f"{MZ}joinMode",
        f"{MZ}participantCount",
        "http://www.w3.org/2002/12/cal/ical#rrule",
        "https://w3id.org/fep/8a8e/attendees",
    ):
        assert iri in terms
    assert len(terms) == len(set(event) - {"@context"})


def test_published_event_reads_back_as_its_draft() -> None:
    draft = review()
    event = event_to_json(urls=URLS, slug="n", oid="e1", draft=draft, published=NOW, now=NOW)
    assert draft_from_event(event, draft.markdown) == draft


def test_mobilizon_event_is_read() -> None:
    person = Person("mona", "https://mobilizon.example")
    obj = mobilizon.event(person, start="2031-03-04T19:00:00+01:00", online=None)
    draft = remote_event_draft(obj)
    assert draft is not None
    assert draft.start == datetime(2031, 3, 4, 18, 0, tzinfo=UTC)
    assert draft.timezone == "Europe/Paris"
    assert draft.place_line() == "Salle des infirmières, 3 rue de l'Hôpital, 69003 Lyon, France"
    assert draft.capacity is None  # Mobilizon's 0: no limit
    assert draft.online_url is None
    broken = {**obj, "startTime": "next Tuesday", "timezone": "Mars/Olympus"}
    assert remote_event_draft(broken) is None
    assert remote_event_draft({**obj, "timezone": "Mars/Olympus"}).timezone == "UTC"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": " "}, "name"),
        ({"status": "obsolete"}, "creativeWorkStatus"),
        ({"tags": ("two words",)}, "tag"),
        ({"markdown": ""}, "content"),
        ({"summary": "x" * 2001}, "summary"),
    ],
)
def test_practice_fields_are_checked(change: dict[str, Any], field: str) -> None:
    base = PracticeDraft(title="T", summary="", markdown="text")
    with pytest.raises(InvalidContent) as info:
        validate_practice(PracticeDraft(**{**base.__dict__, **change}))
    assert info.value.field == field
