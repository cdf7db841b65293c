"""The key pairs copub signs with, as stored, for checks (``copub doctor``).

Only the key columns are read, so this works on a database whose schema is behind."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from actors.store.db import AsyncSession
from actors.store.models import CommunityRow, ServerKeyRow


@dataclass(frozen=True)
class StoredKeyPair:
    """Whose pair (``community 'slug'`` or ``the server``), and its two PEMs."""

    owner: str
    slug: str | None  # the community's, None for the server's
    private_pem: str
    public_pem: str


async def stored_key_pairs(
    session: AsyncSession,
) -> tuple[StoredKeyPair | None, list[StoredKeyPair]]:
    """The server's pair (None before the first start) and every community's, by slug."""
    server = (
        await session.execute(
            select(ServerKeyRow.private_key_pem, ServerKeyRow.public_key_pem)
            .order_by(ServerKeyRow.id)
            .limit(1)
        )
    ).first()
    rows = await session.execute(
        select(
            CommunityRow.slug, CommunityRow.private_key_pem, CommunityRow.public_key_pem
        ).order_by(CommunityRow.slug)
    )
    communities = [StoredKeyPair(f"community '{slug}'", slug, private, public)
                   for slug, private, public in rows]  # fmt: skip
    if server is None:
        return None, communities
    return StoredKeyPair("the server", None, server[0], server[1]), communities
