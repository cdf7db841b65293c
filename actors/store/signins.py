"""SQL of signing in: sessions, failed sign-ins, passkeys and WebAuthn challenges.

Session ids, challenge keys and such arrive hashed (actors.accounts hashes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.store.models_accounts import ChallengeRow, PasskeyRow, SessionRow, SigninFailureRow

# -- sessions ---------------------------------------------------------------------------


async def add_session(
    session: AsyncSession,
    *,
    token_hash: str,
    account_id: int,
    csrf_token: str,
    address: str,
    user_agent: str,
    now: datetime,
) -> SessionRow:
    row = SessionRow(
        token_hash=token_hash,
        account_id=account_id,
        csrf_token=csrf_token,
        address=address,
        user_agent=user_agent,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def session_by_hash(session: AsyncSession, token_hash: str) -> SessionRow | None:
    return await session.scalar(select(SessionRow).where(SessionRow.token_hash == token_hash))


async def sessions_of(session: AsyncSession, account_id: int) -> list[SessionRow]:
    rows = await session.scalars(
        select(SessionRow)
        .where(SessionRow.account_id == account_id)
        .order_by(SessionRow.last_seen_at.desc(), SessionRow.id.desc())
    )
    return list(rows)


async def delete_session(session: AsyncSession, session_id: int, account_id: int) -> bool:
    """End one of the account's sessions (never another account's)."""
    result = await session.execute(
        delete(SessionRow).where(SessionRow.id == session_id, SessionRow.account_id == account_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_sessions_of(
    session: AsyncSession, account_id: int, *, keep: int | None = None
) -> int:
    """End every session of the account, but ``keep``."""
    statement = delete(SessionRow).where(SessionRow.account_id == account_id)
    if keep is not None:
        statement = statement.where(SessionRow.id != keep)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_stale_sessions(session: AsyncSession, *, seen_before: datetime) -> None:
    await session.execute(delete(SessionRow).where(SessionRow.last_seen_at < seen_before))


# -- failed sign-ins ----------------------------------------------------------------------


async def add_failure(session: AsyncSession, username: str, address: str, when: datetime) -> int:
    row = SigninFailureRow(username=username, address=address, at=when)
    session.add(row)
    await session.flush()
    return row.id


async def delete_failure(session: AsyncSession, failure_id: int) -> None:
    await session.execute(delete(SigninFailureRow).where(SigninFailureRow.id == failure_id))


async def failures(
    session: AsyncSession,
    *,
    since: datetime,
    username: str | None = None,
    address: str | None = None,
    after: datetime | None = None,
) -> tuple[int, datetime | None]:
    """(how many, the latest) failures from ``since`` on (and strictly ``after``), of the
    name or from the address."""
    query = select(func.count(), func.max(SigninFailureRow.at)).where(SigninFailureRow.at >= since)
    if after is not None:
        query = query.where(SigninFailureRow.at > after)
    if username is not None:
        query = query.where(SigninFailureRow.username == username)
    if address is not None:
        query = query.where(SigninFailureRow.address == address)
    count, latest = (await session.execute(query)).one()
    return int(count or 0), latest


async def forget_failures(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(SigninFailureRow).where(SigninFailureRow.at < before))


# -- passkeys -----------------------------------------------------------------------------


async def add_passkey(
    session: AsyncSession,
    *,
    account_id: int,
    credential_id: str,
    public_key: bytes,
    sign_count: int,
    name: str,
    transports: list[Any],
    now: datetime,
) -> PasskeyRow:
    row = PasskeyRow(
        account_id=account_id,
        credential_id=credential_id,
        public_key=public_key,
        sign_count=sign_count,
        name=name,
        transports=transports,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def passkeys_of(session: AsyncSession, account_id: int) -> list[PasskeyRow]:
    rows = await session.scalars(
        select(PasskeyRow).where(PasskeyRow.account_id == account_id).order_by(PasskeyRow.id)
    )
    return list(rows)


async def passkey_by_credential(session: AsyncSession, credential_id: str) -> PasskeyRow | None:
    return await session.scalar(select(PasskeyRow).where(PasskeyRow.credential_id == credential_id))


async def delete_passkey(session: AsyncSession, passkey_id: int, account_id: int) -> bool:
    result = await session.execute(
        delete(PasskeyRow).where(PasskeyRow.id == passkey_id, PasskeyRow.account_id == account_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- WebAuthn challenges ------------------------------------------------------------------


async def add_challenge(
    session: AsyncSession,
    *,
    key_hash: str,
    purpose: str,
    account_id: int | None,
    challenge: str | None,
    expires_at: datetime,
    now: datetime,
) -> ChallengeRow:
    await session.execute(delete(ChallengeRow).where(ChallengeRow.expires_at < now))
    row = ChallengeRow(
        key_hash=key_hash,
        purpose=purpose,
        account_id=account_id,
        challenge=challenge,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row


async def challenge_by_hash(session: AsyncSession, key_hash: str) -> ChallengeRow | None:
    return await session.scalar(select(ChallengeRow).where(ChallengeRow.key_hash == key_hash))


async def take_challenge(session: AsyncSession, challenge_id: int) -> bool:
    """Delete the challenge; False if another request took it first (one use)."""
    result = await session.execute(delete(ChallengeRow).where(ChallengeRow.id == challenge_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
