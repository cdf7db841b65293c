"""Value-creation stories and indicators (Wenger, Trayner & de Laat, *Promoting and assessing
value creation in communities and networks*, 2011): pure rules, no SQL.

A story may say which cycle of value it evidences, what changed, for whom, and which
practices or events it is about. On the wire it stays the ``Note`` it is, with four terms
in copub's namespace (:data:`VALUE_TERMS`); its text carries the cycle and what changed, for
software that reads only ``content`` (Mastodon). A coordinator's indicator is a short fact
of one cycle, with a date and perhaps a number ("12 wards adopted the double check").

What other servers send is read through ``federation.intake`` (:func:`claim_from_object`):
a cycle from the fixed set, short texts, http(s) links only, at most :data:`MAX_ABOUT`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from actors.content import COPUB_NS, InvalidContent
from federation.clock import as2_time
from federation.intake import bounded, bounded_text, object_urls, one_of, remote_time, safe_url
from federation.origins import same_origin
from federation.vocab import JSON, has_type

# the five cycles, in the order the framework tells them
CYCLES = ("immediate", "potential", "applied", "realized", "reframing")
CYCLE_NAMES = {
    "immediate": "Immediate value",
    "potential": "Potential value",
    "applied": "Applied value",
    "realized": "Realized value",
    "reframing": "Reframing value",
}
CYCLE_QUESTIONS = {
    "immediate": "Activities and interactions worth taking part in",
    "potential": "Knowledge capital: skills, relations, resources, ideas gained",
    "applied": "Changes in practice: what people did differently",
    "realized": "Performance improved: results that matter",
    "reframing": "Redefining success: new goals, strategies, criteria",
}
MAX_CHANGED = 1_000
MAX_FOR = 200
MAX_ABOUT = 10
MAX_INDICATOR = 300
MAX_WIRE_ITEMS = 200  # stories and indicators each, in a community's value collection

VALUE_TERMS: JSON = {
    "copub": COPUB_NS,
    "valueCycle": "copub:valueCycle",
    "valueChanged": "copub:valueChanged",
    "valueFor": "copub:valueFor",
    "valueAbout": {"@id": "copub:valueAbout", "@type": "@id"},
}
INDICATOR_TERMS: JSON = {
    **VALUE_TERMS,
    "ValueIndicator": "copub:ValueIndicator",
    "valueNumber": {
        "@id": "copub:valueNumber",
        "@type": "http://www.w3.org/2001/XMLSchema#decimal",
    },
    "valueDate": {"@id": "copub:valueDate", "@type": "http://www.w3.org/2001/XMLSchema#date"},
}


@dataclass(frozen=True)
class ValueClaim:
    """What a value-creation story says of itself: its cycle, what changed, for whom, and
    the items (URLs) it is about."""

    cycle: str
    changed: str = ""
    for_whom: str = ""
    about: tuple[str, ...] = ()


@dataclass(frozen=True)
class Indicator:
    """A coordinator's indicator of one cycle: a short fact, perhaps a number, a date."""

    cycle: str
    text: str
    on: date
    number: float | None = None


def check_cycle(cycle: str, field: str = "valueCycle") -> str:
    found = one_of(cycle, CYCLES)
    if found is None:
        raise InvalidContent(field, f"the cycle must be one of {', '.join(CYCLES)}")
    return found


def validate_claim(claim: ValueClaim) -> ValueClaim:
    """The claim checked and trimmed; InvalidContent names the field (its AS2 name)."""
    cycle = check_cycle(claim.cycle)
    changed, for_whom = claim.changed.strip(), claim.for_whom.strip()
    if len(changed) > MAX_CHANGED:
        raise InvalidContent("valueChanged", f"'what changed' is over {MAX_CHANGED} characters")
    if len(for_whom) > MAX_FOR:
        raise InvalidContent("valueFor", f"for whom is longer than {MAX_FOR} characters")
    about = tuple(dict.fromkeys(a.strip() for a in claim.about if a.strip()))
    if len(about) > MAX_ABOUT:
        raise InvalidContent("valueAbout", f"at most {MAX_ABOUT} items")
    for url in about:
        if safe_url(url) is None:
            raise InvalidContent("valueAbout", f"{url!r} is not an http(s) URL")
    return ValueClaim(cycle, changed, for_whom, about)


def validate_indicator(indicator: Indicator) -> Indicator:
    cycle = check_cycle(indicator.cycle, "cycle")
    text = " ".join(indicator.text.split())
    if not text:
        raise InvalidContent("text", "an indicator needs a short fact")
    if len(text) > MAX_INDICATOR:
        raise InvalidContent("text", f"the fact is longer than {MAX_INDICATOR} characters")
    number = indicator.number
    if number is not None and not (abs(number) < 1e15 and number == number):
        raise InvalidContent("number", "the number is out of range")
    return Indicator(cycle, text, indicator.on, number)


# -- on the wire -----------------------------------------------------------------------------


def claim_terms(claim: ValueClaim) -> JSON:
    """The story's extra properties (copub's namespace)."""
    terms: JSON = {"valueCycle": claim.cycle}
    if claim.changed:
        terms["valueChanged"] = claim.changed
    if claim.for_whom:
        terms["valueFor"] = claim.for_whom
    if claim.about:
        terms["valueAbout"] = list(claim.about)
    return terms


def claim_html(claim: ValueClaim) -> str:
    """What Mastodon shows of the claim, under the story's title: the cycle and what
    changed, for whom; the items it is about follow the text (:func:`about_html`)."""
    parts = [f"<strong>{escape(CYCLE_NAMES[claim.cycle])}</strong>"]
    if claim.changed:
        parts.append(f"What changed: {escape(claim.changed)}")
    if claim.for_whom:
        parts.append(f"For: {escape(claim.for_whom)}")
    return "<p>" + " · ".join(parts) + "</p>"


def about_html(claim: ValueClaim) -> str:
    if not claim.about:
        return ""
    links = ", ".join(f'<a href="{escape(u)}">{escape(u)}</a>' for u in claim.about)
    return f"<p>About: {links}</p>"


def claim_from_object(obj: JSON) -> ValueClaim | None:
    """The claim a remote object carries, read through ``federation.intake``; None when it
    names no cycle of the fixed set. Texts are cut, links kept only when http(s)."""
    cycle = one_of(obj.get("valueCycle"), CYCLES)
    if cycle is None:
        return None
    return ValueClaim(
        cycle=cycle,
        changed=bounded_text(obj.get("valueChanged"), MAX_CHANGED) or "",
        for_whom=bounded_text(obj.get("valueFor"), MAX_FOR) or "",
        about=tuple(object_urls(obj.get("valueAbout"), MAX_ABOUT)),
    )


def indicator_to_json(indicator: Indicator, ident: str) -> JSON:
    found: JSON = {
        "id": ident,
        "type": "ValueIndicator",
        "valueCycle": indicator.cycle,
        "name": indicator.text,
        "valueDate": indicator.on.isoformat(),
    }
    if indicator.number is not None:
        found["valueNumber"] = indicator.number
    return found


def indicator_from_json(value: Any) -> Indicator | None:
    """An indicator of a remote value collection, or None when it cannot be read."""
    if not isinstance(value, dict):
        return None
    cycle = one_of(value.get("valueCycle"), CYCLES)
    text = bounded_text(value.get("name"), MAX_INDICATOR)
    raw_date = value.get("valueDate")
    if cycle is None or text is None or not isinstance(raw_date, str):
        return None
    try:
        on = date.fromisoformat(raw_date[:10])
    except ValueError:
        return None
    number = value.get("valueNumber")
    if isinstance(number, bool) or not isinstance(number, int | float) or not abs(number) < 1e15:
        number = None
    value = float(number) if number is not None else None
    return Indicator(cycle, " ".join(text.split()), on, value)


def number_text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if number == int(number) else f"{number:g}"


def cycle_tags(cycles: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Hashtag (normalised) -> cycle, from ``(cycle, its tags)`` pairs."""
    return {t.strip().lstrip("#").lower(): cycle for cycle, tags in cycles for t in tags}


# -- a community's value collection (the Group's ``valueCreation``) ------------------------

STORY_TYPES = frozenset({"Note", "Article", "Page"})


def story_entry(obj: JSON, group: str) -> JSON | None:
    """A story of a remote value collection as the matrix keeps it, or None: its id an
    http(s) URL on the Group's own server, a cycle of the fixed set; texts cut."""
    url = safe_url(obj.get("id"))
    claim = claim_from_object(obj)
    if url is None or claim is None or not same_origin(url, group):
        return None
    published = remote_time(obj.get("published"))
    return {
        "url": url,
        "title": bounded_text(obj.get("name"), 200) or "",
        "cycle": claim.cycle,
        "changed": claim.changed,
        "for_whom": claim.for_whom,
        "about": list(claim.about),
        "published": as2_time(published) if published else None,
    }


def read_collection(document: JSON, group: str) -> tuple[list[JSON], list[JSON]]:
    """The stories and indicators of a linked Group's value collection, each read through
    ``federation.intake`` and capped at :data:`MAX_WIRE_ITEMS`; what cannot be read is
    left out."""
    stories: list[JSON] = []
    found: list[JSON] = []
    for entry in bounded(document.get("orderedItems"), 2 * MAX_WIRE_ITEMS):
        if not isinstance(entry, dict):
            continue
        if has_type(entry, "ValueIndicator"):
            indicator = indicator_from_json(entry)
            if indicator is not None and len(found) < MAX_WIRE_ITEMS:
                found.append(indicator_entry(indicator))
        elif has_type(entry, *STORY_TYPES):
            story = story_entry(entry, group)
            if story is not None and len(stories) < MAX_WIRE_ITEMS:
                stories.append(story)
    return stories, found


def indicator_entry(indicator: Indicator) -> JSON:
    return {
        "cycle": indicator.cycle,
        "text": indicator.text,
        "number": indicator.number,
        "on": indicator.on.isoformat(),
    }
