"""actors/store/wakeups.py: a commit that announces work wakes the loop listening for it in
another process (here: another engine on the same database), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from actors.store import wakeups
from actors.store.db import create_engine, sessionmaker

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """(the listening process's engine, the writing process's engine)"""
    listener, writer = create_engine(database_url), create_engine(database_url)
    try:
        yield listener, writer
    finally:
        await listener.dispose()
        await writer.dispose()


async def announce(engine: AsyncEngine, channel: str = wakeups.INBOX) -> None:
    async with sessionmaker(engine).begin() as session:
        await wakeups.announce(session, channel)


def socket_file(database_url: str) -> str:
    address = wakeups.wake_address(database_url, wakeups.INBOX)
    assert address is not None
    return address


async def woken(event: asyncio.Event) -> bool:
    await asyncio.wait_for(event.wait(), 10)
    return True


async def test_a_commit_that_announces_wakes_the_listener(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    listener, writer = engines
    inbox, deliveries = asyncio.Event(), asyncio.Event()
    async with (
        wakeups.listening(listener, wakeups.INBOX, inbox.set),
        wakeups.listening(listener, wakeups.DELIVERIES, deliveries.set),
    ):
        await announce(writer, wakeups.INBOX)
        assert await woken(inbox)
        await announce(writer, wakeups.DELIVERIES)
        assert await woken(deliveries)


@sqlite_only
async def test_on_sqlite_a_socket_beside_the_database_while_listening(
    engines: tuple[AsyncEngine, AsyncEngine], database_url: str
) -> None:
    listener, _writer = engines
    address = socket_file(database_url)
    assert address.endswith("copub.sqlite3.inbox.wake")
    async with wakeups.listening(listener, wakeups.INBOX, lambda: None):
        assert Path(address).is_socket()
    assert not Path(address).exists()  # removed when the loop stops


@sqlite_only
async def test_nobody_listening_is_fine(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    _listener, writer = engines
    await announce(writer)  # no socket: the commit goes through, nothing raised


@sqlite_only
async def test_a_socket_left_by_a_stopped_process_is_taken_over(
    engines: tuple[AsyncEngine, AsyncEngine], database_url: str
) -> None:
    listener, writer = engines
    address = socket_file(database_url)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    left.bind(address)
    left.close()  # a process killed before removing its socket file
    assert Path(address).is_socket()
    event = asyncio.Event()
    async with wakeups.listening(listener, wakeups.INBOX, event.set):
        await announce(writer)
        assert await woken(event)


@sqlite_only
async def test_a_second_listener_leaves_the_first_alone(
    engines: tuple[AsyncEngine, AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    listener, writer = engines
    first = asyncio.Event()
    async with wakeups.listening(listener, wakeups.INBOX, first.set):
        with caplog.at_level(logging.WARNING, logger="actors.store.wakeups"):
            async with wakeups.listening(writer, wakeups.INBOX, lambda: None):
                pass
        assert "not listening for inbox wake-ups" in caplog.text
        await announce(writer)
        assert await woken(first)


@sqlite_only
async def test_a_database_path_too_long_for_a_socket_file_listens_by_name(
    tmp_path: Path, database_url: str
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    url = f"sqlite+aiosqlite:///{deep}/copub.sqlite3"
    os.link(str(database_url).split("///", 1)[1], deep / "copub.sqlite3")
    address = wakeups.wake_address(url, wakeups.INBOX)
    assert address is not None
    assert address.startswith("\0copub-")
    listener, writer = create_engine(url), create_engine(url)
    event = asyncio.Event()
    try:
        async with wakeups.listening(listener, wakeups.INBOX, event.set):
            await announce(writer)
            assert await woken(event)
    finally:
        await listener.dispose()
        await writer.dispose()


@sqlite_only
async def test_a_running_server_listens_for_deliveries_and_inbox_items(
    client: TestClient[Any, Any], database_url: str
) -> None:
    # The delivery worker and the inbox processor each bind their socket once started
    for channel in (wakeups.DELIVERIES, wakeups.INBOX):
        address = wakeups.wake_address(database_url, channel)
        assert address is not None
        for _ in range(500):  # their loops start beside the app: a few turns of the loop
            if Path(address).is_socket():
                break
            await asyncio.sleep(0.01)
        assert Path(address).is_socket(), channel
