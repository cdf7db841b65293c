"""The console's state in the app: its settings turned into rules, its clock, the cookie
names, and the navigation the pages register (``add_page``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web

from actors.accounts.passkeys import RelyingParty
from actors.accounts.passwords import Passwords
from actors.accounts.sessions import SessionRules
from actors.accounts.throttle import Rules
from actors.settings import Settings
from federation.clock import utcnow
from federation.origins import web_origin

SCOPES = ("community", "server", "account")


class Clock:
    """The console's time. Tests replace ``source`` (no sleeping for an idle session)."""

    def __init__(self, source: Callable[[], datetime] = utcnow) -> None:
        self.source = source

    def now(self) -> datetime:
        return self.source()


@dataclass(frozen=True)
class Cookies:
    """Cookie names: ``__Host-`` ones when the console is served over https (the browser
    then keeps them to this origin, ``Secure`` and ``Path=/``)."""

    secure: bool

    def _name(self, name: str) -> str:
        return f"__Host-copub_{name}" if self.secure else f"copub_{name}"

    @property
    def session(self) -> str:
        return self._name("session")

    @property
    def csrf(self) -> str:
        """The form token of a browser not signed in (sign-in, setup, invitation pages)."""
        return self._name("csrf")

    @property
    def second_factor(self) -> str:
        """The passkey step after a right password."""
        return self._name("second_factor")


@dataclass(frozen=True)
class NavEntry:
    """A console page in the navigation: ``path`` is a route (``{slug}`` for a
    community's page), ``scope`` one of ``SCOPES`` (``server``: admins only)."""

    label: str
    path: str
    scope: str

    def href(self, slug: str = "") -> str:
        return self.path.format(slug=slug) if self.scope == "community" else self.path


@dataclass
class ConsoleState:
    passwords: Passwords
    throttle: Rules
    sessions: SessionRules
    cookies: Cookies
    origin: str  # scheme://host[:port] of base_url: the only origin allowed to POST
    relying_party: RelyingParty | None
    invite_valid: timedelta
    trust_forwarded_for: bool
    clock: Clock = field(default_factory=Clock)
    nav: list[NavEntry] = field(default_factory=list)

    @classmethod
    def of(cls, settings: Settings) -> ConsoleState:
        console = settings.console
        base_url = settings.server.base_url
        parts = urlsplit(base_url)
        return cls(
            passwords=Passwords(console),
            throttle=Rules.of(console),
            sessions=SessionRules.of(console),
            cookies=Cookies(secure=parts.scheme == "https"),
            origin=web_origin(base_url) or base_url,  # a base_url always has one (settings)
            relying_party=RelyingParty.of(base_url),
            invite_valid=timedelta(days=console.invite_valid_days),
            trust_forwarded_for=console.trust_forwarded_for,
        )

    def pages(self, scope: str) -> list[NavEntry]:
        return [entry for entry in self.nav if entry.scope == scope]


CONSOLE = web.AppKey("console", ConsoleState)


def add_page(app: web.Application, label: str, path: str, scope: str) -> None:
    """Put a console page in the navigation (call it from the page module's setup)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    app[CONSOLE].nav.append(NavEntry(label, path, scope))
