"""``[federation] ca_file``: copub trusts a private CA for https, and nothing less.

Without it copub could not fetch from or deliver to a server whose certificate chains to
a private CA (the Fedify peer in these tests): the first interop fault the peer found.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from actors.settings import ConfigError, settings_from_dict
from federation.client import FederationClient
from federation.errors import FetchError
from tests import factories
from tests.interop.fedify import Tls
from tests.pg import free_port


@pytest.fixture
async def https_actor(tls: Tls) -> AsyncIterator[str]:
    """An actor document at https://localhost:PORT/actor, served with the test certificate."""

    async def actor(request: web.Request) -> web.Response:
        body = {"id": str(request.url), "type": "Person", "inbox": str(request.url) + "/inbox"}
        return web.json_response(body, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/actor", actor)
    runner = web.AppRunner(app)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        yield f"https://localhost:{port}/actor"
    finally:
        await runner.cleanup()


async def test_the_ca_file_is_trusted(tls: Tls, https_actor: str) -> None:
    async with FederationClient(
        "copub-test", allow_private_addresses=True, ca_file=str(tls.ca)
    ) as client:
        document = await client.fetch_object(https_actor)
    assert document["id"] == https_actor


async def test_without_it_the_certificate_is_refused(https_actor: str) -> None:
    async with FederationClient("copub-test", allow_private_addresses=True) as client:
        with pytest.raises(FetchError, match="certificate"):
            await client.fetch_object(https_actor)


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    raw = factories.settings_dict("sqlite+aiosqlite:///x.sqlite3")
    raw["federation"]["ca_file"] = str(tmp_path / "nowhere.pem")
    with pytest.raises(ConfigError, match=r"federation\.ca_file"):
        settings_from_dict(raw)
