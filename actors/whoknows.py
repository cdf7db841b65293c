"""Who knows about what: for each hashtag of a community's practices, the members who wrote,
revised or discussed practices carrying it, from what they did in public here (a member's
post filed as a practice, its revisions, the replies in its thread). Pure rules; the
queries are in actors/store/whoknows.py, the page in actors/web/who_knows.py.

Anyone can be left out: they write the phrase ``OPT_OUT`` in a mention of the community or a
direct message to it (actors/inbound/who_knows.py files the request; the post is not
relayed), and ``OPT_IN`` to be back. The page says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from actors.html import plain_text

OPT_OUT = "leave me out of who-knows"
OPT_IN = "put me back in who-knows"
MAX_TOPICS = 100
MAX_PEOPLE_PER_TOPIC = 25


class Role(StrEnum):
    WROTE = "wrote"
    REVISED = "revised"
    DISCUSSED = "discussed"


class Request(StrEnum):
    LEAVE_OUT = "leave out"
    PUT_BACK = "put back"


def _folded(text: str) -> str:
    """Lower case, ``who knows`` / ``who-knows`` / ``whoknows`` alike, spaces folded."""
    text = re.sub("who[\\s\\-\u2010\u2011\u2013\u2014]*knows", "whoknows", text.lower())
    return " ".join(text.replace("\u2019", "'").split())


def request_in(content_html: str) -> Request | None:
    """What a post to the community asks of the who-knows page, if anything. Asking both
    (quoting the instructions) is asking nothing."""
    text = _folded(plain_text(content_html))
    out, back = _folded(OPT_OUT) in text, _folded(OPT_IN) in text
    if out and not back:
        return Request.LEAVE_OUT
    if back and not out:
        return Request.PUT_BACK
    return None


@dataclass(frozen=True)
class Contribution:
    """One person's part in one practice."""

    actor: str
    practice: str  # its id
    role: Role


@dataclass
class Person:
    actor: str
    roles: dict[Role, int] = field(default_factory=dict)
    practices: set[str] = field(default_factory=set)

    @property
    def weight(self) -> int:
        return len(self.practices) * 10 + sum(self.roles.values())


@dataclass
class Topic:
    tag: str
    practices: list[str] = field(default_factory=list)  # ids, in the order given
    people: list[Person] = field(default_factory=list)  # the most involved first
    more: int = 0  # people not shown


def topics(
    practice_tags: dict[str, tuple[str, ...]],
    contributions: Iterable[Contribution],
    left_out: set[str],
) -> list[Topic]:
    """Topics by hashtag (alphabetical), each with its people, the most involved first;
    those in ``left_out`` never appear. ``practice_tags``: each practice's hashtags."""
    by_tag: dict[str, Topic] = {}
    people: dict[str, dict[str, Person]] = {}
    for practice, tags in practice_tags.items():
        for tag in tags:
            by_tag.setdefault(tag, Topic(tag)).practices.append(practice)
    for item in contributions:
        if item.actor in left_out:
            continue
        for tag in practice_tags.get(item.practice, ()):
            person = people.setdefault(tag, {}).setdefault(item.actor, Person(item.actor))
            person.roles[item.role] = person.roles.get(item.role, 0) + 1
            person.practices.add(item.practice)
    found = []
    for tag in sorted(by_tag)[:MAX_TOPICS]:
        topic = by_tag[tag]
        ranked = sorted(people.get(tag, {}).values(), key=lambda p: (-p.weight, p.actor))
        topic.people, topic.more = (
            ranked[:MAX_PEOPLE_PER_TOPIC],
            max(len(ranked) - MAX_PEOPLE_PER_TOPIC, 0),
        )
        found.append(topic)
    return found
