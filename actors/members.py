"""Members-only communities (issue 18): the rules, no SQL and no HTTP.

A community's visibility is ``public`` (anyone follows, items public), ``closed`` (its
coordinators approve followers; items public) or ``members`` (approval, and everything it
publishes or relays is addressed to its followers collection, never ``as:Public``; only
approved followers, the servers hosting them and its coordinators see it: the fetch gate
is actors/web/members_gate.py, the delivery actors/store/members.py). Its Group document
carries ``membersOnly``; it links only with Groups that carry it too (delivery, and what
the receiving side takes: actors/inbound/linked.py).

Switching a public community to ``members`` applies from then on (what was delivered
before stays where it went). Switching back to ``public`` or ``closed`` never publishes
the earlier items: every item it has then is marked ``objects.members_only`` and stays
for its approved followers and coordinators alone (the gate answers anyone else 404 for
it; no list, feed, collection, count or digest shows it; the activities that carried it
leave the outbox); what it publishes from then on is public.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from actors.community import Community
from actors.urls import Urls
from federation.vocab import JSON, PUBLIC

PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})


class Visibility(StrEnum):
    """Who may follow a community and who sees what it publishes."""

    PUBLIC = "public"
    CLOSED = "closed"  # followers approved by hand; items public
    MEMBERS = "members"  # followers approved by hand; items for them only

    @classmethod
    def of(cls, community: Community) -> Visibility:
        if community.members_only:
            return cls.MEMBERS
        return cls.CLOSED if community.closed else cls.PUBLIC

    @property
    def closed(self) -> bool:
        """Whether followers wait for a coordinator's approval."""
        return self is not Visibility.PUBLIC

    @property
    def members_only(self) -> bool:
        return self is Visibility.MEMBERS


VISIBILITIES = tuple(v.value for v in Visibility)


def check_switch(before: Visibility, after: Visibility) -> str:
    """What the coordinator is told of a change from ``before`` to ``after``."""
    if before is after:
        return ""
    if before.members_only:
        return (
            f"from now on what the community publishes is {after.value}; everything it "
            "published while members-only stays members-only: only its approved followers "
            "and coordinators see those items, and they are never re-announced"
        )
    if after.members_only:
        return (
            "from now on only approved followers see what the community publishes; what "
            "it published before stays wherever it was delivered, and its pages now "
            "answer only to members; its current followers are its members (remove any who "
            "should not be: copub followers remove SLUG ACTOR, or the console's People)"
        )
    return ""


MEMBERS_ONLY_TERMS = ("membersOnly", "copub:membersOnly")  # actors/community.py GROUP_CONTEXT


def marks_members_only(group: JSON) -> bool:
    """Whether a Group's actor document says it is a members-only community (copub's
    ``membersOnly``). ``manuallyApprovesFollowers`` does not: a closed community approves
    its followers too, and what it publishes is public (Lemmy takes either for private)."""
    return any(group.get(term) is True for term in MEMBERS_ONLY_TERMS)


def _readdressed(value: Any, followers: str) -> Any:
    values = value if isinstance(value, list) else [value]
    kept = [v for v in values if v not in PUBLIC_ALIASES]
    if len(kept) != len(values) and followers not in kept:
        kept.append(followers)
    return kept


def members_addressed(document: JSON, urls: Urls, slug: str) -> JSON:
    """``document`` (an activity, object or collection of the community) addressed to the
    community's followers wherever it said Public, in everything it embeds too (a copy)."""
    result: JSON = _deep(document, urls.community_followers(slug))
    return result


def _deep(value: Any, followers: str) -> Any:
    if isinstance(value, list):
        return [_deep(v, followers) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _readdressed(inner, followers)
        if key in ("to", "cc", "bto", "bcc")
        else _deep(inner, followers)
        for key, inner in value.items()
    }


def is_public(value: Any) -> bool:
    """Whether ``value`` or anything it embeds is addressed to the Public."""
    if isinstance(value, list):
        return any(is_public(v) for v in value)
    if not isinstance(value, dict):
        return False
    for key, inner in value.items():
        if key in ("to", "cc", "bto", "bcc"):
            values = inner if isinstance(inner, list) else [inner]
            if any(v in PUBLIC_ALIASES for v in values):
                return True
        elif is_public(inner):
            return True
    return False
