"""The keys copub signs with: each community's and the server's (the Application actor's).

Every key pair copub makes for itself comes from :func:`new_key_pair`."""

from __future__ import annotations

from actors.community import Community
from actors.store import queries
from actors.store.db import AsyncSession, async_sessionmaker
from actors.urls import Urls
from federation.keys import Signer, generate_rsa_keypair


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA-2048 key pair (private PEM, public PEM) for a community or the server."""
    return generate_rsa_keypair()


async def server_signer(sessions: async_sessionmaker[AsyncSession], urls: Urls) -> Signer:
    """The Application actor's signer, creating its key on first use."""
    async with sessions.begin() as session:
        row = await queries.get_server_key(session)
        if row is None:
            private_pem, public_pem = new_key_pair()
            row = await queries.insert_server_key(session, private_pem, public_pem)
        return Signer(key_id=urls.application_key(), private_key_pem=row.private_key_pem)


def community_signer(community: Community, urls: Urls) -> Signer:
    """The signer of ``community``'s activities and fetches."""
    return Signer(
        key_id=urls.community_key(community.slug), private_key_pem=community.private_key_pem
    )
