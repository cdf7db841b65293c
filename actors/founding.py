"""Founding communities: one at a time (``copub community create``, the console) or the
ones the config declares (``[[communities]]``, seeded by ``copub serve``); and changing
what a community says of itself (``copub community edit``, the console)."""

from __future__ import annotations

import logging
from datetime import datetime

from actors import outbound
from actors.community import Community, community_to_group
from actors.errors import Invalid
from actors.members import Visibility, check_switch
from actors.settings import SLUG_RE, CommunitySeed
from actors.signing import new_key_pair
from actors.store import queries
from actors.store.db import AsyncSession, async_sessionmaker
from actors.urls import Urls

log = logging.getLogger(__name__)


NAME_MAX = 200  # the column's size
SUMMARY_MAX = 5000
FIELD_NAME_MAX = FIELD_VALUE_MAX = 255  # what Mastodon keeps of a profile field


class InvalidCommunity(Invalid):
    """The community's slug, name, summary or profile fields are not acceptable;
    ``field`` names which (``slug``, ``name``, ``summary``, ``fields``)."""

    field: str

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message, field=field)


def validate_slug(slug: str) -> None:
    if not SLUG_RE.match(slug):
        raise InvalidCommunity(
            f"invalid slug {slug!r}: use 1-63 lowercase letters, digits or '_', "
            "starting with a letter or digit",
            "slug",
        )


def check_profile(
    name: str, summary: str, profile_fields: tuple[tuple[str, str], ...]
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The name, summary and profile fields trimmed, or InvalidCommunity."""
    name, summary = name.strip(), summary.strip()
    if not name:
        raise InvalidCommunity("a community needs a name", "name")
    if len(name) > NAME_MAX:
        raise InvalidCommunity(f"the name is longer than {NAME_MAX} characters", "name")
    if len(summary) > SUMMARY_MAX:
        raise InvalidCommunity(f"the summary is longer than {SUMMARY_MAX} characters", "summary")
    fields = tuple((n.strip(), v.strip()) for n, v in profile_fields)
    for field_name, value in fields:
        if not field_name:
            raise InvalidCommunity("every profile field needs a name", "fields")
        if len(field_name) > FIELD_NAME_MAX or len(value) > FIELD_VALUE_MAX:
            raise InvalidCommunity(
                f"a profile field's name and value are at most {FIELD_VALUE_MAX} characters",
                "fields",
            )
    return name, summary, fields


async def create_community(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    summary: str = "",
    closed: bool = False,
    profile_fields: tuple[tuple[str, str], ...] = (),
    members_only: bool = False,
) -> Community:
    """Create a community with a fresh RSA-2048 key pair; AlreadyExists if taken
    (``members_only``: visibility ``members``, actors/members.py)."""
    validate_slug(slug)
    name, summary, profile_fields = check_profile(name, summary, profile_fields)
    if await queries.get_community(session, slug) is not None:
        raise queries.AlreadyExists(slug)
    private_pem, public_pem = new_key_pair()
    community = await queries.insert_community(
        session,
        slug=slug,
        name=name,
        summary=summary,
        closed=closed,
        private_key_pem=private_pem,
        public_key_pem=public_pem,
        profile_fields=profile_fields,
        members_only=members_only,
    )
    log.info("community created", extra={"community": slug})
    return community


async def update_community(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    *,
    name: str,
    summary: str,
    closed: bool,
    profile_fields: tuple[tuple[str, str], ...],
    now: datetime,
    visibility: Visibility | None = None,
) -> Community:
    """Change what the community says of itself (``copub community edit``, the console).
    When its actor document changes, its followers get an ``Update`` of the Group in the
    same transaction (Mastodon, Lemmy and Fedify refresh their copy from it); nothing is
    sent when nothing changed. InvalidCommunity if a value is not acceptable;
    ``visibility`` (None: ``closed`` decides, members-only kept) as actors/members.py
    allows (members-only back to public keeps the earlier items members-only)."""
    name, summary, profile_fields = check_profile(name, summary, profile_fields)
    if visibility is None:
        visibility = Visibility.MEMBERS if community.members_only else None
        visibility = visibility or (Visibility.CLOSED if closed else Visibility.PUBLIC)
    check_switch(Visibility.of(community), visibility)
    updated = await queries.update_community(
        session,
        community.id,
        name=name,
        summary=summary,
        closed=visibility.closed,
        profile_fields=profile_fields,
        members_only=visibility.members_only,
    )
    if community_to_group(updated, urls) != community_to_group(community, urls):
        activity = outbound.build_update_actor(urls, updated, now)
        await outbound.send_to_followers(
            session, updated, activity, object_id=urls.community(updated.slug), public=False
        )
        log.info("community updated", extra={"community": updated.slug})
    return updated


async def seed_communities(
    sessions: async_sessionmaker[AsyncSession], seeds: tuple[CommunitySeed, ...]
) -> list[Community]:
    """Create the communities the config declares that do not exist yet."""
    created = []
    for seed in seeds:
        async with sessions.begin() as session:
            if await queries.get_community(session, seed.slug) is not None:
                continue
            fields = tuple((f.name, f.value) for f in seed.fields)
            created.append(
                await create_community(
                    session,
                    slug=seed.slug,
                    name=seed.name,
                    summary=seed.summary,
                    closed=seed.closed,
                    profile_fields=fields,
                )
            )
    return created
