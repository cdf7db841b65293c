"""Fixtures for interop tests against an independent implementation: a Fedify peer.

- ``tls`` (session): a throwaway CA and a certificate for localhost (tests/interop/fedify.py).
- ``peer``: the Fedify peer (``node peer.mjs``) on https://localhost:PORT, trusting the CA;
  stopped (its whole process group) when the test ends.
- ``copub``: the real app serving https://localhost:PORT with that certificate, its
  outgoing client trusting the CA (``[federation] ca_file``); it notes the signature
  scheme and answer of every inbox POST (``copub.inbox_requests``).
  ``@pytest.mark.parametrize("peer", ["draft-cavage-http-signatures-12"], indirect=True)``
  makes the peer sign with draft-cavage first instead of RFC 9421 (Fedify's default);
  ``@pytest.mark.parametrize("copub", [{"server": {"secure_mode": True}}], indirect=True)``
  gives copub config sections of the test's own.
- ``community``: ``nightshift``, created through the CLI.

Without Node.js, the peer's npm packages (``npm ci --prefix tests/interop``, which
``make test`` runs) or openssl, the tests skip with the reason; under ``CI=true`` they fail.

A failing scenario shows the tail of the peer's log; ``COPUB_PEER_LOG=debug`` makes Fedify
log every fetch, signature check and delivery there. ``COPUB_RECORD_FIXTURES=1`` re-records
tests/fixtures/activities/fedify/ (see checks.py).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.settings import settings_from_dict
from actors.urls import Urls
from actors.web.app import create_app
from tests.factories import write_toml
from tests.flows.copub import Copub, config_dict
from tests.interop.fedify import FedifyPeer, PeerUnavailable, Tls, make_tls
from tests.pg import free_port


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, where the peer must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Fedify interop peer is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    try:
        return make_tls(tmp_path_factory.mktemp("tls"))
    except PeerUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() raises


@pytest.fixture
async def peer(
    request: pytest.FixtureRequest, tls: Tls, tmp_path: Path
) -> AsyncIterator[FedifyPeer]:
    first_knock = getattr(request, "param", "rfc9421")
    try:
        started = await FedifyPeer.start(tls, tmp_path / "fedify-peer.log", first_knock=first_knock)
    except PeerUnavailable as exc:
        unavailable(str(exc))
        raise
    try:
        yield started
    finally:
        await started.stop()


@dataclass(frozen=True)
class InboxRequest:
    path: str
    scheme: str  # "rfc9421", "cavage" or "unsigned"
    status: int


@dataclass
class HttpsCopub(Copub):
    inbox_requests: list[InboxRequest] = field(default_factory=list)


def _signature_scheme(request: web.Request) -> str:
    if "Signature-Input" in request.headers:
        return "rfc9421"
    return "cavage" if "Signature" in request.headers else "unsigned"


def _record(app: web.Application) -> tuple[list[str], list[InboxRequest]]:
    errors: list[str] = []
    inbox: list[InboxRequest] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        if response.status >= 500:
            errors.append(f"{request.method} {request.path_qs} -> {response.status}")
        if request.method == "POST" and request.path.endswith("/inbox"):
            inbox.append(InboxRequest(request.path, _signature_scheme(request), response.status))

    app.on_response_prepare.append(on_prepare)
    return errors, inbox


async def start_copub_https(
    database_url: str, tmp_path: Path, tls: Tls, **sections: Any
) -> HttpsCopub:
    """copub on https://localhost:PORT (the test certificate), trusting the test CA."""
    port = free_port()
    federation = {"ca_file": str(tls.ca), **sections.pop("federation", {})}
    raw = config_dict(database_url, port, federation=federation, **sections)
    raw["server"]["base_url"] = f"https://localhost:{port}"
    config_file = write_toml(tmp_path / f"copub-{port}.toml", raw)
    settings = settings_from_dict(raw, source=str(config_file))
    app = create_app(settings)
    errors, inbox_requests = _record(app)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert, tls.key)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server(ssl=context)
    urls = Urls(settings.server.base_url)
    return HttpsCopub(server, app, config_file, urls, errors, inbox_requests)


@pytest.fixture
async def copub(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, tls: Tls
) -> AsyncIterator[HttpsCopub]:
    sections = getattr(request, "param", {})
    server = await start_copub_https(database_url, tmp_path, tls, **sections)
    try:
        yield server
    finally:
        await server.server.close()
    assert not server.errors, f"copub answered with server errors: {server.errors}"


@pytest.fixture
async def community(copub: Copub) -> str:
    return await copub.create_community("nightshift")
