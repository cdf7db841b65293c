"""Brute force: failed sign-ins slow down the next attempts, per account and per address.

The rules (``Rules``, from ``[console]``): failures count for ``window`` after they happen.
After ``free`` failures of one name (``free_per_address`` from one address), the next
attempt must wait ``first_delay``, doubled with each further failure, up to ``max_delay``.
While a wait runs, sign-ins of that name (from that address) are refused without looking
at the password, so nothing can be learnt during it; what was refused is not a failure
(the wait does not grow by itself). A correct sign-in, or an admin's new setup link,
sets the name's count back to zero (``throttle_reset_at``); an address's count is not
reset by anyone's sign-in.

A failure is written before the password is checked, in the same transaction as the
check of the count, and deleted when the password was right: attempts made at the same
time all count (on SQLite the transaction is serialized per process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from actors.accounts.config import ConsoleSettings
from actors.store import signins
from actors.store.db import AsyncSession


@dataclass(frozen=True)
class Rules:
    free: int = 5
    free_per_address: int = 20
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(hours=24)

    @classmethod
    def of(cls, console: ConsoleSettings) -> Rules:
        return cls(
            free=console.signin_free_failures,
            free_per_address=console.signin_free_failures_per_address,
            first_delay=timedelta(seconds=console.signin_first_delay_seconds),
            max_delay=timedelta(minutes=console.signin_max_delay_minutes),
            window=timedelta(hours=console.signin_window_hours),
        )

    def wait_after(self, failures: int, free: int) -> timedelta:
        """How long the next attempt waits after ``failures`` failures."""
        if failures < free:
            return timedelta(0)
        steps = min(failures - free, 40)  # 2**40 first delays exceed any max_delay
        return min(self.max_delay, self.first_delay * (1 << steps))


@dataclass(frozen=True)
class Locked:
    """Sign-ins are refused until ``until``: for the account's name, or from the address."""

    until: datetime
    scope: str  # "account" or "address"

    def minutes_left(self, now: datetime) -> int:
        return max(1, -int(-(self.until - now).total_seconds() // 60))


async def lock_of(
    session: AsyncSession,
    rules: Rules,
    *,
    username: str,
    address: str,
    reset_at: datetime | None,
    now: datetime,
) -> Locked | None:
    """The wait in force for this name or this address, if any."""
    since = now - rules.window
    found: list[Locked] = []
    count, latest = await signins.failures(session, since=since, after=reset_at, username=username)
    if latest is not None and latest + rules.wait_after(count, rules.free) > now:
        found.append(Locked(latest + rules.wait_after(count, rules.free), "account"))
    count, latest = await signins.failures(session, since=since, address=address)
    if latest is not None and latest + rules.wait_after(count, rules.free_per_address) > now:
        found.append(Locked(latest + rules.wait_after(count, rules.free_per_address), "address"))
    return max(found, key=lambda lock: lock.until) if found else None


async def count_failure(
    session: AsyncSession, rules: Rules, *, username: str, address: str, now: datetime
) -> int:
    """Write a failure (and forget those older than the window); its id."""
    await signins.forget_failures(session, before=now - rules.window)
    return await signins.add_failure(session, username, address, now)
