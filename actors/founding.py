"""Founding communities: one at a time (``copub community create``) or the ones the config
declares (``[[communities]]``, seeded by ``copub serve``)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.settings import SLUG_RE, CommunitySeed
from actors.signing import new_key_pair
from actors.store import queries

log = logging.getLogger(__name__)


class InvalidCommunity(ValueError):
    """The community's slug or name is not acceptable."""


def validate_slug(slug: str) -> None:
    if not SLUG_RE.match(slug):
        raise InvalidCommunity(
            f"invalid slug {slug!r}: use 1-63 lowercase letters, digits or '_', "
            "starting with a letter or digit"
        )


async def create_community(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    summary: str = "",
    closed: bool = False,
    profile_fields: tuple[tuple[str, str], ...] = (),
) -> Community:
    """Create a community with a fresh RSA-2048 key pair; AlreadyExists if taken."""
    validate_slug(slug)
    if not name.strip():
        raise InvalidCommunity("a community needs a name")
    if await queries.get_community(session, slug) is not None:
        raise queries.AlreadyExists(slug)
    private_pem, public_pem = new_key_pair()
    community = await queries.insert_community(
        session,
        slug=slug,
        name=name.strip(),
        summary=summary.strip(),
        closed=closed,
        private_key_pem=private_pem,
        public_key_pem=public_pem,
        profile_fields=profile_fields,
    )
    log.info("community created", extra={"community": slug})
    return community


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
