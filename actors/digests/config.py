"""``[email]`` of config.example.toml: the operator's SMTP server and the digests' pace.

Email is off while ``host`` is empty: no subscribe form shows and nothing is sent. The
settings loader (``actors.settings``) reads the section into :class:`EmailSettings` and
refuses it when :meth:`problems` finds any."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class EmailSettings:
    """How copub sends email (digests and their confirmations)."""

    # The SMTP server that relays copub's mail; empty: no email at all.
    host: str = ""
    port: int = 587
    # "starttls" (upgrade the connection: port 587), "tls" (TLS from the start: port 465)
    # or "none" (plain text: only for a relay on the same machine or in tests).
    security: str = "starttls"
    # Sign in to the server with these (empty username: no sign-in). password_file, when
    # set, holds the password instead (its first line), so the config file need not.
    username: str = ""
    password: str = ""
    password_file: str = ""
    # A PEM file of extra certificate authorities for the server's certificate.
    ca_file: str = ""
    # The sender, e.g. "digests@cop.example"; required when host is set.
    from_address: str = ""
    from_name: str = "copub"
    # Seconds for each exchange with the server.
    timeout_seconds: float = 30.0
    # How often the schedule looks for digests that are due, in minutes.
    check_minutes: float = 15.0
    # A refused or failed send is tried again with backoff, at most this many times...
    max_attempts: int = 12
    # ...and not after this many hours from the end of its period.
    give_up_after_hours: float = 72.0
    # A confirmation link works for this many days.
    confirm_valid_days: float = 7.0
    # At most this many confirmation emails an hour for the whole server (each address
    # gets at most one every 10 minutes): the form cannot be used to flood inboxes.
    confirmations_per_hour: int = 200

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def secret(self) -> str:
        """The password: ``password_file``'s first line when set, else ``password``."""
        if self.password_file:
            lines = Path(self.password_file).read_text(encoding="utf-8").splitlines()
            return lines[0] if lines else ""
        return self.password

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these settings, as (field, why), for the settings loader."""
        found: list[tuple[str, str]] = []
        if not 0 < self.port < 65536:
            found.append(("port", "must be between 1 and 65535"))
        if self.security not in SECURITY:
            found.append(("security", "must be starttls, tls or none"))
        for key in ("timeout_seconds", "check_minutes", "give_up_after_hours"):
            if getattr(self, key) <= 0:
                found.append((key, "must be positive"))
        if self.confirm_valid_days <= 0:
            found.append(("confirm_valid_days", "must be positive"))
        if self.max_attempts < 1 or self.confirmations_per_hour < 1:
            found.append(("max_attempts", "and confirmations_per_hour must be at least 1"))
        if self.host and "@" not in self.from_address:
            found.append(("from_address", "must be an address like digests@cop.example"))
        if self.password_file and not Path(self.password_file).is_file():
            found.append(("password_file", f"{self.password_file!r} is not a file"))
        if self.ca_file and not Path(self.ca_file).is_file():
            found.append(("ca_file", f"{self.ca_file!r} is not a file"))
        return found
