"""Fixtures of the console tests: the app with cheap password hashing, its sessions, and a
person's browser on it (see helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.settings import Settings
from actors.web.keys import SESSIONS
from tests.conftest import ClientFactory
from tests.console.helpers import FakeClock, Person, console_settings, person, use_clock


@pytest.fixture
def settings(database_url: str) -> Settings:
    return console_settings(database_url)


@pytest.fixture
async def console(make_client: ClientFactory, settings: Settings) -> TestClient[Any, Any]:
    return await make_client(settings)


@pytest.fixture
def db(console: TestClient[Any, Any]) -> async_sessionmaker[AsyncSession]:
    return console.app[SESSIONS]  # type: ignore[no-any-return]


@pytest.fixture
def clock(console: TestClient[Any, Any]) -> FakeClock:
    return use_clock(console)


@pytest.fixture
def browser(console: TestClient[Any, Any], settings: Settings) -> Person:
    return person(console, settings)
