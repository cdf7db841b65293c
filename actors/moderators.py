"""The coordinators of a community as the fediverse sees them: the actors of its
``moderators`` collection (Lemmy reads it). They may post to a moderated community,
delete members' posts, and are shown first in the core of the community page.

One path for everyone who changes them: ``copub moderators`` and the console (a
coordinator who links their fediverse account). Each change is told to the followers as
Lemmy tells it (``Add``/``Remove`` to the ``moderators`` collection, announced by the
community) and written to the moderation log, in the caller's transaction."""

from __future__ import annotations

from urllib.parse import urlsplit

from actors import outbound
from actors.community import Community
from actors.errors import Invalid
from actors.moderation import modlog
from actors.moderation.modlog import Moderator
from actors.outbound import build_collection_add, build_collection_remove
from actors.store import participation, queries
from actors.store.db import AsyncSession
from actors.store.models_moderation import ModAction
from actors.urls import Urls
from federation.vocab import JSON

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


async def add_moderator(
    session: AsyncSession, urls: Urls, community: Community, actor: str, *, by: Moderator
) -> bool:
    """Make ``actor`` a coordinator of the community, and tell the followers (Lemmy's
    ``Add`` to the ``moderators`` collection, announced); False if it was one already."""
    if await queries.is_moderator(session, community.id, actor):
        return False
    await queries.add_moderator(session, community.id, actor)
    target = urls.community_moderators(community.slug)
    await _tell(session, urls, community, build_collection_add(urls, community, actor, target))
    await modlog.record(session, community, ModAction.COORDINATOR_ADDED, actor, by)
    return True


async def remove_moderator(
    session: AsyncSession, urls: Urls, community: Community, actor: str, *, by: Moderator
) -> bool:
    """Remove ``actor`` from the community's coordinators, and tell the followers
    (``Remove`` from the ``moderators`` collection); False if it was not one."""
    if not await participation.remove_moderator(session, community.id, actor):
        return False
    target = urls.community_moderators(community.slug)
    await _tell(session, urls, community, build_collection_remove(urls, community, actor, target))
    await modlog.record(session, community, ModAction.COORDINATOR_REMOVED, actor, by)
    return True


async def _tell(session: AsyncSession, urls: Urls, community: Community, change: JSON) -> None:
    announce = outbound.announced(urls, community, change)
    await outbound.send_to_followers(session, community, announce, object_id=change["object"])
