"""SQL of console accounts: the accounts, the communities they coordinate, one-time links.

Secrets arrive here already hashed (actors.accounts decides and hashes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models_accounts import AccountCommunityRow, AccountRow, InviteRow
from actors.store.queries import AlreadyExists


async def add_account(session: AsyncSession, username: str, role: str) -> AccountRow:
    """A new account without a password; ``AlreadyExists`` if the name is taken (the
    transaction cannot go on if another one took it at the same time)."""
    if await account_named(session, username) is not None:
        raise AlreadyExists(username)
    row = AccountRow(username=username, role=role)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(username) from exc
    return row


async def get_account(session: AsyncSession, account_id: int) -> AccountRow | None:
    return await session.get(AccountRow, account_id)


async def account_named(session: AsyncSession, username: str) -> AccountRow | None:
    return await session.scalar(select(AccountRow).where(AccountRow.username == username))


async def usable_admin_exists(session: AsyncSession) -> bool:
    """An admin who can sign in (one who has finished setting up)."""
    found = await session.scalar(
        select(
            exists().where(
                AccountRow.role == "admin",
                AccountRow.password_hash.is_not(None) | AccountRow.webauthn_user_id.is_not(None),
            )
        )
    )
    return bool(found)


async def pending_admins(session: AsyncSession) -> list[AccountRow]:
    """Admins who have not finished setting up (no password, no passkey)."""
    rows = await session.scalars(
        select(AccountRow)
        .where(
            AccountRow.role == "admin",
            AccountRow.password_hash.is_(None),
            AccountRow.webauthn_user_id.is_(None),
        )
        .order_by(AccountRow.id)
    )
    return list(rows)


async def community_ids(session: AsyncSession, account_id: int) -> list[int]:
    rows = await session.scalars(
        select(AccountCommunityRow.community_id)
        .where(AccountCommunityRow.account_id == account_id)
        .order_by(AccountCommunityRow.community_id)
    )
    return list(rows)


async def coordinates(session: AsyncSession, account_id: int, community_id: int) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                AccountCommunityRow.account_id == account_id,
                AccountCommunityRow.community_id == community_id,
            )
        )
    )
    return bool(found)


async def add_community(session: AsyncSession, account_id: int, community_id: int) -> bool:
    """Give the account the community; False if it had it already."""
    if await coordinates(session, account_id, community_id):
        return False
    session.add(AccountCommunityRow(account_id=account_id, community_id=community_id))
    await session.flush()
    return True


async def remove_community(session: AsyncSession, account_id: int, community_id: int) -> bool:
    result = await session.execute(
        delete(AccountCommunityRow).where(
            AccountCommunityRow.account_id == account_id,
            AccountCommunityRow.community_id == community_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_accounts(session: AsyncSession) -> list[AccountRow]:
    """Every account: admins first, then by name."""
    rows = await session.scalars(
        select(AccountRow).order_by((AccountRow.role == "admin").desc(), AccountRow.username)
    )
    return list(rows)


async def community_ids_by_account(session: AsyncSession) -> dict[int, list[int]]:
    """The communities each coordinator has (accounts with none are absent)."""
    rows = await session.execute(
        select(AccountCommunityRow.account_id, AccountCommunityRow.community_id).order_by(
            AccountCommunityRow.account_id, AccountCommunityRow.community_id
        )
    )
    found: dict[int, list[int]] = {}
    for account_id, community_id in rows:
        found.setdefault(account_id, []).append(community_id)
    return found


async def coordinators_of(session: AsyncSession, community_id: int) -> list[AccountRow]:
    rows = await session.scalars(
        select(AccountRow)
        .join(AccountCommunityRow, AccountCommunityRow.account_id == AccountRow.id)
        .where(AccountCommunityRow.community_id == community_id)
        .order_by(AccountRow.username)
    )
    return list(rows)


# -- one-time links -------------------------------------------------------------------


async def add_invite(
    session: AsyncSession,
    *,
    token_hash: str,
    kind: str,
    expires_at: datetime,
    account_id: int | None = None,
    community_id: int | None = None,
    created_by: int | None = None,
) -> InviteRow:
    row = InviteRow(
        token_hash=token_hash,
        kind=kind,
        account_id=account_id,
        community_id=community_id,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row


async def invite_by_hash(session: AsyncSession, token_hash: str) -> InviteRow | None:
    return await session.scalar(select(InviteRow).where(InviteRow.token_hash == token_hash))


async def use_invite(session: AsyncSession, invite_id: int, when: datetime) -> bool:
    """Mark the link used; False if another request used it first (it works once)."""
    result = await session.execute(
        update(InviteRow)
        .where(InviteRow.id == invite_id, InviteRow.used_at.is_(None))
        .values(used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def withdraw_setup_links(session: AsyncSession, account_id: int, when: datetime) -> None:
    """Unused setup links of the account stop working (a newer one replaces them)."""
    await session.execute(
        update(InviteRow)
        .where(
            InviteRow.account_id == account_id,
            InviteRow.kind == "setup",
            InviteRow.used_at.is_(None),
        )
        .values(used_at=when)
    )


async def open_invites(session: AsyncSession, community_id: int, now: datetime) -> list[InviteRow]:
    """The community's coordinator invitations not used yet and still valid."""
    rows = await session.scalars(
        select(InviteRow)
        .where(
            InviteRow.community_id == community_id,
            InviteRow.kind == "coordinator",
            InviteRow.used_at.is_(None),
            InviteRow.expires_at > now,
        )
        .order_by(InviteRow.id)
    )
    return list(rows)


async def count_accounts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AccountRow)) or 0)
