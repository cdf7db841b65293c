"""The audit log: every console action, and what the command line does to accounts, is
written with who did it, when, from where and in which community (in the caller's
transaction, so an action and its record are written together or not at all)."""

from __future__ import annotations

from datetime import datetime

from actors.accounts.model import Account
from actors.community import Community
from actors.store import audit as store
from actors.store.db import AsyncSession

COMMAND_LINE = "(command line)"
NOT_SIGNED_IN = "(not signed in)"


async def record(
    session: AsyncSession,
    action: str,
    *,
    who: Account | None,
    now: datetime,
    community: Community | None = None,
    detail: str = "",
    address: str = "",
    actor: str | None = None,
) -> None:
    """``who`` None: the command line, or ``actor`` (``NOT_SIGNED_IN``)."""
    if actor is None:
        actor = who.username if who is not None else COMMAND_LINE
    await store.add_entry(
        session,
        at=now,
        actor=actor,
        action=action,
        account_id=who.id if who is not None else None,
        community_id=community.id if community is not None else None,
        community_slug=community.slug if community is not None else None,
        detail=detail,
        address=address,
    )
