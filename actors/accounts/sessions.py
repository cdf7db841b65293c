"""Console sessions, kept on the server: the browser's cookie holds only a random id.

A session is found by the SHA-256 of that id, so the table gives nothing away; it ends
after ``idle`` without a request or ``max_age`` after its sign-in, whichever comes first,
and is rotated at each sign-in (a new id; the browser's previous session, if any, is
ended). Its CSRF token is random too and never leaves the pages of that session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.accounts.config import ConsoleSettings
from actors.store import signins
from actors.store.db import AsyncSession
from actors.store.models_accounts import SessionRow
from actors.store.tokens import token_hash

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # a cookie longer than any id made here is not looked up
# last_seen_at is written at most this often per session (not on every request)
TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta = timedelta(minutes=60)
    max_age: timedelta = timedelta(hours=168)

    @classmethod
    def of(cls, console: ConsoleSettings) -> SessionRules:
        return cls(
            idle=timedelta(minutes=console.session_idle_minutes),
            max_age=timedelta(hours=console.session_max_hours),
        )

    def expired(self, row: SessionRow, now: datetime) -> bool:
        return row.last_seen_at + self.idle <= now or row.created_at + self.max_age <= now


async def start(
    session: AsyncSession,
    account_id: int,
    *,
    address: str,
    user_agent: str,
    now: datetime,
    rules: SessionRules,
    replaces: str | None = None,
) -> tuple[str, SessionRow]:
    """A new session for the account: (the id for the cookie, its row). ``replaces``: the
    id the browser held before (a session of whoever it was), ended now. Sessions idle
    past ``rules`` (of anyone: browsers that never came back) are deleted on the way."""
    if replaces:
        await end(session, replaces)
    await signins.delete_stale_sessions(session, seen_before=now - rules.idle)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = await signins.add_session(
        session,
        token_hash=token_hash(token),
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        address=address,
        user_agent=user_agent[:USER_AGENT_MAX],
        now=now,
    )
    return token, row


async def find(
    session: AsyncSession, token: str, rules: SessionRules, now: datetime
) -> SessionRow | None:
    """The live session of a cookie's id; an expired one is deleted and not returned.
    Marks the session seen (at most once per ``TOUCH_EVERY``)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = await signins.session_by_hash(session, token_hash(token))
    if row is None:
        return None
    if rules.expired(row, now):
        await session.delete(row)
        await session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        await session.flush()
    return row


async def end(session: AsyncSession, token: str) -> None:
    """End the session of a cookie's id, if there is one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return
    row = await signins.session_by_hash(session, token_hash(token))
    if row is not None:
        await session.delete(row)
        await session.flush()


async def end_others(session: AsyncSession, account_id: int, keep: int | None) -> int:
    """End every session of the account but ``keep``; how many ended."""
    return await signins.delete_sessions_of(session, account_id, keep=keep)
