"""A person's browser on the console, for tests on the real app (``aiohttp_client``).

``Person`` keeps the cookies itself, as a browser would for the console's origin, Secure
ones included (the test client talks plain http to 127.0.0.1 whatever ``base_url`` says),
sends ``Origin`` (the console's, unless told otherwise) with every POST, and reads the
CSRF token of each page it gets. ``cookie_attributes`` keeps what the server said of
each cookie (``secure``, ``httponly``, ``samesite``, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from multidict import CIMultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.accounts import invites
from actors.settings import Settings
from actors.store.models_accounts import AuditRow
from actors.urls import Urls
from actors.web.console.state import CONSOLE
from tests import factories

# Cheap Argon2id for tests (the defaults take a quarter of a second a hash)
FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def console_settings(database_url: str, *, base_url: str = factories.BASE_URL, **console: Any
                     ) -> Settings:  # fmt: skip
    return factories.make_settings(
        database_url, base_url=base_url, console={**FAST_HASHING, **console}
    )


@dataclass
class Page:
    status: int
    text: str
    headers: CIMultiDictProxy[str]
    url: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class FakeClock:
    """The console's clock, moved by the test. Like a real one it never stands still:
    each reading is a microsecond after the last."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(microseconds=1)
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def use_clock(client: TestClient[Any, Any]) -> FakeClock:
    clock = FakeClock()
    client.app[CONSOLE].clock.source = clock.now  # type: ignore[index]
    return clock


@dataclass
class Person:
    client: TestClient[Any, Any]
    origin: str
    cookies: dict[str, str] = field(default_factory=dict)
    cookie_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    csrf: str = ""
    user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"

    def _remember(self, headers: CIMultiDictProxy[str]) -> None:
        for header in headers.getall("Set-Cookie", []):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookie_attributes[name] = {
                    "secure": bool(morsel["secure"]),
                    "httponly": bool(morsel["httponly"]),
                    "samesite": morsel["samesite"],
                    "path": morsel["path"],
                    "max-age": morsel["max-age"],
                }
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "text/html", "User-Agent": self.user_agent}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    async def _send(self, method: str, path: str, *, follow: bool, **kwargs: Any) -> Page:
        while True:
            async with self.client.request(
                method, path, allow_redirects=False, **kwargs
            ) as response:
                text = await response.text()
                self.client.session.cookie_jar.clear()  # only our own cookies count
                self._remember(response.headers)
                page = Page(response.status, text, response.headers, path)
            found = CSRF_RE.search(text)
            if found:
                self.csrf = found.group(1)
            if not (follow and page.status in (301, 302, 303, 307)):
                return page
            method, path = (
                "GET",
                urlsplit(page.location).path
                + ("?" + urlsplit(page.location).query if urlsplit(page.location).query else ""),
            )
            kwargs = {"headers": self._headers(None)}

    async def get(self, path: str, *, follow: bool = True, headers: dict[str, str] | None = None
                  ) -> Page:  # fmt: skip
        return await self._send("GET", path, follow=follow, headers=self._headers(headers))

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = "page",
        origin: str | None = "console",
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Page:
        """POST a form: ``csrf`` "page" sends the last page's token (None: no token);
        ``origin`` "console" sends the console's origin (None: no Origin header)."""
        form = dict(data or {})
        if csrf is not None:
            form["csrf"] = self.csrf if csrf == "page" else csrf
        extra: dict[str, str] = {}
        if origin is not None:
            extra["Origin"] = self.origin if origin == "console" else origin
        extra.update(headers or {})
        return await self._send(
            "POST", path, follow=follow, data=form, headers=self._headers(extra)
        )

    async def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        headers = self._headers({"Origin": self.origin, "X-CSRF-Token": self.csrf,
                                 "Accept": "application/json"})  # fmt: skip
        async with self.client.post(path, json=body, headers=headers) as response:
            self.client.session.cookie_jar.clear()
            self._remember(response.headers)
            return response.status, await response.json(content_type=None)

    async def sign_in(self, username: str, password: str = PASSWORD) -> Page:
        await self.get("/console/signin")
        return await self.post("/console/signin", {"username": username, "password": password})

    async def sign_out(self) -> Page:
        await self.get("/console")
        return await self.post("/console/signout")


def person(client: TestClient[Any, Any], settings: Settings) -> Person:
    base = Urls(settings.server.base_url).base_url
    return Person(client, base)


def path_of(url: str) -> str:
    return urlsplit(url).path


async def admin_link(sessions: async_sessionmaker[AsyncSession], username: str = "ada") -> str:
    """A new admin and the path of their setup link."""
    async with sessions.begin() as session:
        link = await invites.create_admin(
            session, username, valid=timedelta(days=7), now=datetime.now(UTC)
        )
    return f"/console/setup/{link.token}"


async def invite_link(sessions: async_sessionmaker[AsyncSession], community_id: int) -> str:
    async with sessions.begin() as session:
        link = await invites.coordinator_invite(
            session, community_id, valid=timedelta(days=7), now=datetime.now(UTC)
        )
    return f"/console/invite/{link.token}"


async def coordinator(
    client: TestClient[Any, Any],
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    community_id: int,
    username: str = "alice",
) -> Person:
    """A new person's browser, signed in as a new coordinator of the community (through
    an invitation)."""
    who = person(client, settings)
    invite = await invite_link(sessions, community_id)
    await who.get(invite)
    page = await who.post(invite, {"username": username, "password": PASSWORD,
                                   "confirm": PASSWORD})  # fmt: skip
    assert page.status == 200, page.text
    return who


async def set_up(who: Person, setup_path: str, password: str = PASSWORD) -> Page:
    """Open a setup link and choose the password (signs in)."""
    page = await who.get(setup_path)
    assert page.status == 200, page.text
    return await who.post(setup_path, {"password": password, "confirm": password})


async def audit_actions(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """(actor, action) of the audit log, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(AuditRow).order_by(AuditRow.id))
        return [(row.actor, row.action) for row in rows]
