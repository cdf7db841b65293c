"""Bearer tokens of the authoring API: only their SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models_practice import TokenRow

PREFIX = "copub_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(
    session: AsyncSession, community_id: int, label: str
) -> tuple[TokenRow, str]:
    """A new token for the community: (its row, the token itself, to print once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(community_id=community_id, token_hash=token_hash(token), label=label.strip())
    session.add(row)
    await session.flush()
    return row, token


async def find_token(session: AsyncSession, token: str) -> TokenRow | None:
    """The row of a presented token. The lookup is by hash, so timing reveals nothing of
    stored tokens; the final comparison is constant-time all the same."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = token_hash(token)
    row = await session.scalar(select(TokenRow).where(TokenRow.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


async def touch_token(session: AsyncSession, row: TokenRow, when: datetime) -> None:
    row.last_used_at = when
    await session.flush()


async def list_tokens(session: AsyncSession, community_id: int) -> list[TokenRow]:
    rows = await session.scalars(
        select(TokenRow).where(TokenRow.community_id == community_id).order_by(TokenRow.id)
    )
    return list(rows)


async def revoke_token(session: AsyncSession, community_id: int, token_id: int) -> bool:
    result = await session.execute(
        delete(TokenRow).where(TokenRow.community_id == community_id, TokenRow.id == token_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
