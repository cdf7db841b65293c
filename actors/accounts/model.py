"""Who signs in to the console: ``Account``, its names and roles, the one-time links."""

from __future__ import annotations

import re
from dataclasses import dataclass

from actors.errors import NotFound
from actors.store.models_accounts import AccountRow

ADMIN = "admin"
COORDINATOR = "coordinator"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")

SETUP = "setup"  # an existing account sets its password: the first admin, a reset
INVITE = "coordinator"  # a person takes on a community (a new account, or their own)


@dataclass(frozen=True)
class Account:
    """A person who signs in: an admin (every community) or a coordinator (theirs)."""

    id: int
    username: str
    role: str
    actor_url: str | None = None
    has_password: bool = False
    passkey_second_factor: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def account_of(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=row.role,
        actor_url=row.actor_url,
        has_password=row.password_hash is not None,
        passkey_second_factor=row.passkey_second_factor,
    )


def normal_username(value: str) -> str:
    """Names are compared without case or surrounding spaces."""
    return value.strip().lower()


def username_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name, or None."""
    if not USERNAME_RE.match(normal_username(value)):
        return (
            "Use 2 to 32 letters (a-z), digits, '.', '_' or '-', starting with a letter or a digit."
        )
    return None


class LinkProblem(NotFound):
    """A setup or invitation link that cannot be used: unknown, used, expired."""
