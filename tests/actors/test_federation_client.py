"""The clients copub fetches and delivers with are built from the settings in one place."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from actors.delivery import delivery_client
from actors.remote import federation_client
from tests import factories


def test_the_fetching_client_follows_the_federation_settings() -> None:
    settings = factories.make_settings(
        "sqlite+aiosqlite:///:memory:",
        base_url="http://cop.test",
        federation={"user_agent": "copub/test", "fetch_timeout_seconds": 3.0},
    )
    client = federation_client(settings)
    assert (client.user_agent, client.timeout_seconds) == ("copub/test", 3.0)
    assert client.webfinger_scheme == "http"  # as the server's own base URL


def test_a_client_may_have_its_own_timeout_and_pool() -> None:
    settings = factories.make_settings("sqlite+aiosqlite:///:memory:")
    client = federation_client(settings, timeout_seconds=1.5, limit=7, limit_per_host=2)
    assert client.timeout_seconds == 1.5
    assert (client._limit, client._limit_per_host) == (7, 2)


def test_the_delivery_client_takes_the_delivery_timeout_and_limits() -> None:
    settings = factories.make_settings(
        "sqlite+aiosqlite:///:memory:",
        federation={"delivery_timeout_seconds": 4.0},
        delivery={"per_host_concurrency": 3, "concurrency": 250},
    )
    client = delivery_client(settings)
    assert client.timeout_seconds == 4.0
    assert (client._limit, client._limit_per_host) == (250, 3)
    assert client.webfinger_scheme == "https"


@pytest.fixture
def low_open_files_limit() -> Iterator[int]:
    """The soft limit of open files lowered to 256 for the test (the hard one kept)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        yield hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_delivering_process_may_open_as_many_files_as_its_hard_limit(
    low_open_files_limit: int,
) -> None:
    # Given a process allowed 256 open files (the usual soft limit is 1,024) out of more
    hard = low_open_files_limit
    # When it builds its delivery client (a fan-out holds a socket per peer at a time)
    delivery_client(factories.make_settings("sqlite+aiosqlite:///:memory:"))
    # Then it may open as many as the hard limit allows
    unlimited = hard == resource.RLIM_INFINITY
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == (65_536 if unlimited else hard)
