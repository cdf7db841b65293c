"""Fixtures for digest tests: a real SMTP server and copub configured to send through it.

- ``mail``: a :class:`tests.digests.smtp.MailServer` on 127.0.0.1;
- ``world``: the real app with ``[email]`` pointing at ``mail``, the ``nightshift``
  community, and a DigestService on the app's database reading a settable clock (the
  app's own service makes a pass at start, then waits an hour).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from actors.digests.config import EmailSettings
from actors.settings import Settings
from actors.web.digest_pages import digest_service
from actors.web.keys import SERVER_SIGNER, SESSIONS, URLS
from tests import factories
from tests.conftest import ClientFactory
from tests.digests.clock import Clock
from tests.digests.smtp import MailServer
from tests.digests.world import World


def email_settings(port: int, **changes: Any) -> EmailSettings:
    """``[email]`` for the test server: plain SMTP on loopback."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "digests@cop.test",
        "from_name": "copub digests",
        "timeout_seconds": 5.0,
        "check_minutes": 60.0,
    }
    return EmailSettings(**{**values, **changes})


@pytest.fixture
async def mail() -> AsyncIterator[MailServer]:
    async with MailServer() as server:
        yield server


@pytest.fixture
async def world(make_client: ClientFactory, settings: Settings, mail: MailServer) -> World:
    configured = dataclasses.replace(settings, email=email_settings(mail.port))
    client = await make_client(configured)
    app = client.app
    sessions = app[SESSIONS]
    community = await factories.create_community(sessions)
    clock = Clock()
    service = digest_service(configured, sessions, app[URLS], app[SERVER_SIGNER].private_key_pem)
    service.clock = clock
    return World(client, community, mail, service, clock, sessions)
