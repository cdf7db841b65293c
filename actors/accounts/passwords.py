"""Passwords: Argon2id (``argon2-cffi``) with the configured parameters.

A stored hash made with other parameters than the configured ones is made again at its
owner's next correct sign-in (``Verdict.new_hash``). Hashing takes a fraction of a second
and tens of MiB by design, so it runs in a worker thread, at most ``concurrency`` at once
per process: a flood of sign-ins queues instead of exhausting memory. An account without
a password (or a name without an account) is checked against a hash all the same, so
the time an answer takes tells nothing of which names exist."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from actors.accounts.config import ConsoleSettings

MAX_LENGTH = 1024  # characters; longer input is refused before any hashing


@dataclass(frozen=True)
class Verdict:
    ok: bool
    # the password hashed again with the configured parameters, to store (ok only)
    new_hash: str | None = None


def password_problem(password: str, min_length: int) -> str | None:
    """Why ``password`` cannot be a password, or None. Length is the only rule (NIST
    SP 800-63B): no required character classes, spaces and any script allowed."""
    if len(password) < min_length:
        return f"Use at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    return None


class Passwords:
    """Hash and verify passwords with one process's Argon2id parameters."""

    def __init__(self, console: ConsoleSettings, *, concurrency: int = 2) -> None:
        self.min_length = console.password_min_length
        self._hasher = PasswordHasher(
            time_cost=console.argon2_time_cost,
            memory_cost=console.argon2_memory_kib,
            parallelism=console.argon2_parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> Verdict:
        """Whether ``password`` matches ``stored``; with a new hash when the parameters
        changed since ``stored`` was made."""
        if len(password) > MAX_LENGTH:
            return Verdict(False)
        if stored is None:
            await self._verify_decoy(password)
            return Verdict(False)
        async with self._slots:
            ok = await asyncio.to_thread(self._check, stored, password)
            if not ok:
                return Verdict(False)
            if not self._hasher.check_needs_rehash(stored):
                return Verdict(True)
            return Verdict(True, await asyncio.to_thread(self._hasher.hash, password))

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _verify_decoy(self, password: str) -> None:
        if self._decoy is None:
            self._decoy = await self.hash("not a password of anyone")
        async with self._slots:
            await asyncio.to_thread(self._check, self._decoy, password)
