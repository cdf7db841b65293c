"""One-time links: an admin's setup link (``copub admin create``, or a new one to reset a
password) and a coordinator's invitation to a community (``copub coordinator invite``,
or an admin in the console). A link is a random token shown once; only its SHA-256 is
stored. It works once, until it expires (``[console] invite_valid_days``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.accounts import coordinators
from actors.accounts.model import ADMIN, COORDINATOR, INVITE, SETUP, LinkProblem
from actors.store import accounts, signins
from actors.store.db import AsyncSession
from actors.store.models_accounts import AccountRow, InviteRow
from actors.store.tokens import token_hash
from actors.urls import Urls

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class Link:
    """A link's token (for ``Urls.console_setup`` / ``Urls.console_invite``) and its end."""

    token: str
    expires_at: datetime


async def _new_link(session: AsyncSession, *, kind: str, valid: timedelta, now: datetime,
                    account_id: int | None = None, community_id: int | None = None,
                    created_by: int | None = None) -> Link:  # fmt: skip
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await accounts.add_invite(
        session,
        token_hash=token_hash(token),
        kind=kind,
        expires_at=now + valid,
        account_id=account_id,
        community_id=community_id,
        created_by=created_by,
    )
    return Link(token, now + valid)


async def create_admin(
    session: AsyncSession, username: str, *, valid: timedelta, now: datetime
) -> Link:
    """A new admin account and its setup link; ``AlreadyExists`` if the name is taken."""
    row = await accounts.add_account(session, username, ADMIN)
    return await setup_link(session, row, valid=valid, now=now)


async def first_admin(session: AsyncSession, *, valid: timedelta, now: datetime) -> Link | None:
    """While no admin has set up the console (no password, no passkey): a new setup link
    for the first admin, ``admin``, created if need be (earlier links stop working).
    None once an admin can sign in."""
    if await accounts.usable_admin_exists(session):
        return None
    pending = await accounts.pending_admins(session)
    if pending:
        return await setup_link(session, pending[0], valid=valid, now=now)
    name, n = FIRST_ADMIN, 1
    while await accounts.account_named(session, name) is not None:
        n += 1
        name = f"{FIRST_ADMIN}{n}"
    return await create_admin(session, name, valid=valid, now=now)


async def setup_link(
    session: AsyncSession,
    row: AccountRow,
    *,
    valid: timedelta,
    now: datetime,
    created_by: int | None = None,
) -> Link:
    """A new setup link for an existing account (to set its password): earlier unused
    ones stop working, and its failed sign-ins no longer count."""
    await accounts.withdraw_setup_links(session, row.id, now)
    row.throttle_reset_at = now
    return await _new_link(
        session, kind=SETUP, valid=valid, now=now, account_id=row.id, created_by=created_by
    )


async def coordinator_invite(
    session: AsyncSession,
    community_id: int,
    *,
    valid: timedelta,
    now: datetime,
    created_by: int | None = None,
) -> Link:
    """An invitation to coordinate the community."""
    return await _new_link(
        session,
        kind=INVITE,
        valid=valid,
        now=now,
        community_id=community_id,
        created_by=created_by,
    )


async def open_link(session: AsyncSession, token: str, kind: str, now: datetime) -> InviteRow:
    """The link of ``token``, if it can still be used; ``LinkProblem`` says why not."""
    row = None
    if token and len(token) <= MAX_TOKEN_LENGTH:
        row = await accounts.invite_by_hash(session, token_hash(token))
    if row is None or row.kind != kind:
        raise LinkProblem("This link is not valid. Ask for a new one.")
    if row.used_at is not None:
        raise LinkProblem("This link was used already: it works once. Ask for a new one.")
    if row.expires_at <= now:
        raise LinkProblem("This link has expired. Ask for a new one.")
    return row


async def _use(session: AsyncSession, invite: InviteRow, now: datetime) -> None:
    if not await accounts.use_invite(session, invite.id, now):
        raise LinkProblem("This link was used already: it works once. Ask for a new one.")


async def finish_setup(
    session: AsyncSession, invite: InviteRow, password_hash: str, now: datetime
) -> AccountRow:
    """Use a setup link: the account's password is set, its sessions end, and no passkey
    is asked for after the password any more (the link is how an admin lets back in
    someone who lost theirs; the passkeys stay, to use or remove)."""
    await _use(session, invite, now)
    row = await accounts.get_account(session, invite.account_id) if invite.account_id else None
    if row is None:
        raise LinkProblem("This link is not valid. Ask for a new one.")
    row.password_hash = password_hash
    row.throttle_reset_at = now
    row.passkey_second_factor = False
    await signins.delete_sessions_of(session, row.id)
    await session.flush()
    return row


async def accept_as_new(
    session: AsyncSession,
    urls: Urls,
    invite: InviteRow,
    username: str,
    password_hash: str,
    now: datetime,
) -> AccountRow:
    """Use an invitation with a new coordinator account; ``AlreadyExists`` if the name
    is taken (the link stays unused)."""
    row = await accounts.add_account(session, username, COORDINATOR)
    await _use(session, invite, now)
    row.password_hash = password_hash
    await session.flush()
    if invite.community_id is not None:
        await coordinators.give_community(
            session, urls, row, invite.community_id, by=coordinators.moderator(row)
        )
    return row


async def accept_as(
    session: AsyncSession, urls: Urls, invite: InviteRow, row: AccountRow, now: datetime
) -> None:
    """Use an invitation with the signed-in person's own account."""
    await _use(session, invite, now)
    if invite.community_id is not None:
        await coordinators.give_community(
            session, urls, row, invite.community_id, by=coordinators.moderator(row)
        )
