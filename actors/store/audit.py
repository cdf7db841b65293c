"""SQL of the audit log: who did what, when, from where, in which community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models_accounts import AuditRow

ACTION_MAX = 64
DETAIL_MAX = 2000


async def add_entry(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    account_id: int | None = None,
    community_id: int | None = None,
    community_slug: str | None = None,
    detail: str = "",
    address: str = "",
) -> AuditRow:
    row = AuditRow(
        at=at,
        account_id=account_id,
        actor=actor[:64],
        action=action[:ACTION_MAX],
        community_id=community_id,
        community_slug=community_slug,
        detail=detail[:DETAIL_MAX],
        address=address[:64],
    )
    session.add(row)
    await session.flush()
    return row


async def entries(
    session: AsyncSession,
    *,
    limit: int = 100,
    before_id: int | None = None,
    community_id: int | None = None,
    account_id: int | None = None,
) -> list[AuditRow]:
    """The newest entries first (``before_id``: the page after the one that ended there)."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    if community_id is not None:
        query = query.where(AuditRow.community_id == community_id)
    if account_id is not None:
        query = query.where(AuditRow.account_id == account_id)
    return list(await session.scalars(query))
