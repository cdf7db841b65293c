"""Signing in with a name and a password, within the brute-force rules (throttle.py).

``check_password`` runs in two short transactions around the Argon2id check (which takes
a fraction of a second and holds no lock): the first checks the waits in force and
writes the attempt as a failure; the second deletes it again if the password was right,
and stores the password's new hash when the configured parameters changed. A failure is
logged with the name and the address, never the password; one of an existing account
goes to the audit log too."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from actors.accounts import audit, throttle
from actors.accounts.model import Account, account_of, normal_username
from actors.accounts.passwords import Passwords
from actors.accounts.throttle import Locked, Rules
from actors.store import accounts, signins
from actors.store.db import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

NAME_MAX = 32


@dataclass(frozen=True)
class SignedIn:
    account: Account


@dataclass(frozen=True)
class NeedsPasskey:
    """The password was right; the account asks for a passkey too."""

    account: Account


@dataclass(frozen=True)
class Wrong:
    """Unknown name or wrong password (the person is not told which)."""


Outcome = SignedIn | NeedsPasskey | Wrong | Locked


async def check_password(
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    rules: Rules,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
) -> Outcome:
    name = normal_username(username)[:NAME_MAX]
    async with sessions.begin() as session:
        row = await accounts.account_named(session, name)
        lock = await throttle.lock_of(
            session,
            rules,
            username=name,
            address=address,
            reset_at=row.throttle_reset_at if row is not None else None,
            now=now,
        )
        if lock is not None:
            log.warning(
                "sign-in refused: waiting after failures",
                extra={"username": name, "remote": address, "scope": lock.scope},
            )
            return lock
        failure = await throttle.count_failure(
            session, rules, username=name, address=address, now=now
        )
        stored = row.password_hash if row is not None else None
    verdict = await passwords.verify(stored, password)
    async with sessions.begin() as session:
        row = await accounts.account_named(session, name)
        if not verdict.ok or row is None:
            log.warning("failed sign-in", extra={"username": name, "remote": address})
            if row is not None:
                await audit.record(
                    session,
                    "signin.failed",
                    who=None,
                    actor=audit.NOT_SIGNED_IN,
                    now=now,
                    detail=f"wrong password for {name}",
                    address=address,
                )
            return Wrong()
        await signins.delete_failure(session, failure)
        if verdict.new_hash is not None:
            row.password_hash = verdict.new_hash
            log.info("password hash renewed", extra={"username": name})
        if row.passkey_second_factor and await signins.passkeys_of(session, row.id):
            return NeedsPasskey(account_of(row))
        row.throttle_reset_at = now
        await session.flush()
        return SignedIn(account_of(row))
