"""The console's settings (``[console]`` of config.example.toml): sessions, one-time links,
passwords (Argon2id), the sign-in waits and the address of a request.

They live with the accounts that read them; the settings loader (``actors.settings``) reads
the section into :class:`ConsoleSettings` and refuses it when :meth:`problems` finds any."""

from __future__ import annotations

from dataclasses import dataclass

# Durations and costs that must be more than zero.
_POSITIVE = (
    "session_idle_minutes",
    "session_max_hours",
    "invite_valid_days",
    "argon2_time_cost",
    "argon2_parallelism",
    "signin_first_delay_seconds",
    "signin_max_delay_minutes",
    "signin_window_hours",
)


@dataclass(frozen=True)
class ConsoleSettings:
    """The console (``/console``): who signs in and how (actors/accounts/)."""

    # A session ends after this many minutes without a request...
    session_idle_minutes: int = 60
    # ...and at the latest this many hours after its sign-in.
    session_max_hours: int = 168
    # Setup and invitation links work once, for this many days.
    invite_valid_days: int = 7
    # Passwords have at least this many characters.
    password_min_length: int = 10
    # Argon2id parameters (RFC 9106, second recommendation); a stored hash made with
    # other ones is made again at its owner's next sign-in.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # Failed sign-ins within signin_window_hours: beyond this many for one account (or
    # signin_free_failures_per_address from one address), each further attempt waits
    # signin_first_delay_seconds, doubled with each failure up to signin_max_delay_minutes.
    signin_free_failures: int = 5
    signin_free_failures_per_address: int = 20
    signin_first_delay_seconds: float = 30.0
    signin_max_delay_minutes: float = 60.0
    signin_window_hours: float = 24.0
    # The address of a request (sign-in limits, sessions, the audit log): the last
    # X-Forwarded-For entry when true (copub behind a reverse proxy that sets it),
    # else the connection's.
    trust_forwarded_for: bool = False

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these settings, as (field, why), for the settings loader."""
        found = [(key, "must be positive") for key in _POSITIVE if getattr(self, key) <= 0]
        if self.password_min_length < 8:
            found.append(("password_min_length", "must be at least 8"))
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            found.append(
                ("argon2_memory_kib", "must be at least 8 times 'console.argon2_parallelism'")
            )
        found += [
            (key, "must be at least 1")
            for key in ("signin_free_failures", "signin_free_failures_per_address")
            if getattr(self, key) < 1
        ]
        return found
