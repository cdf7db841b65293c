"""Fixtures for page tests: the app's sessions and the nightshift community."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.web.keys import SESSIONS
from tests import factories


@pytest.fixture
def db(client: TestClient[Any, Any]) -> async_sessionmaker[AsyncSession]:
    return client.app[SESSIONS]


@pytest.fixture
async def nightshift(db: async_sessionmaker[AsyncSession]) -> Community:
    return await factories.create_community(db)
