"""The coordinators of a community as the fediverse sees them: the actors of its
``moderators`` collection (Lemmy reads it). They may post to a moderated community,
delete members' posts, and are shown first in the core of the community page.

One path for everyone who changes them: ``copub moderators`` and the console (a
coordinator who links their fediverse account)."""

from __future__ import annotations

from urllib.parse import urlsplit

from actors.errors import Invalid
from actors.store import participation, queries
from actors.store.db import AsyncSession

ACTOR_URL_MAX = 2048


class InvalidActorUrl(Invalid):
    """Not an actor's URL; the message says what to give instead."""


def actor_url(value: str) -> str:
    """``value`` as an actor URL (http(s), a host, no fragment); ``InvalidActorUrl`` else."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        bad = parts.scheme not in ("http", "https") or not parts.hostname or bool(parts.fragment)
    except ValueError:
        bad = True
    if bad or len(value) > ACTOR_URL_MAX or any(c.isspace() for c in value):
        raise InvalidActorUrl(
            "give the actor's URL, e.g. https://social.example/users/alice "
            "(on Mastodon: the profile's 'Copy link to profile')"
        )
    return value


async def add_moderator(session: AsyncSession, community_id: int, actor: str) -> bool:
    """Make ``actor`` a coordinator of the community; False if it was one already."""
    if await queries.is_moderator(session, community_id, actor):
        return False
    await queries.add_moderator(session, community_id, actor)
    return True


async def remove_moderator(session: AsyncSession, community_id: int, actor: str) -> bool:
    """Remove ``actor`` from the community's coordinators; False if it was not one."""
    return await participation.remove_moderator(session, community_id, actor)
