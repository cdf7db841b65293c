"""Waking the process that runs a queue's loop when another process queued work in it.

Each queue's loop (deliveries, the inbox processor, the Discourse adapter's jobs) polls, as
a fallback; besides, what another process queues (``copub publish``, the console of another
web process, ``copub held approve``) wakes it within milliseconds:

- PostgreSQL: the writer runs ``NOTIFY copub_<channel>`` in the transaction that queued
  (PostgreSQL delivers it at the commit, never on a rollback); each loop ``LISTEN``\\s on a
  connection of its own.
- SQLite: the process running the loop binds a Unix datagram socket beside the database
  file (``copub.sqlite3.<channel>.wake``); a writer sends it one byte after its commit. No
  socket (nobody listening: the server is stopped) is fine, the send fails quietly and the
  work waits for the loop's start. A socket path longer than the system allows (about 107
  bytes) is named in Linux's abstract namespace instead, after a hash of the database's path.
- SQLite in memory: one process, nothing to wake across.

A wake-up carries nothing: the loop claims what is due, as at a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import hashlib
import logging
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from actors.store.db import after_commit, sqlite_file

log = logging.getLogger(__name__)

DELIVERIES = "deliveries"
INBOX = "inbox"

_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
_MAX_PATH = 107  # sun_path holds 108 bytes on Linux (104 on the BSDs), the NUL included


def pg_channel(channel: str) -> str:
    """The PostgreSQL channel of a queue (``deliveries`` -> ``copub_deliveries``)."""
    if not _NAME.fullmatch(channel):
        raise ValueError(f"not a wake-up channel name: {channel!r}")
    return f"copub_{channel}"


@functools.lru_cache(maxsize=64)
def wake_address(database_url: str, channel: str) -> str | None:
    """Where the loop of ``channel`` listens on this SQLite database: a socket file beside
    it, an abstract name when that path is too long; None for PostgreSQL, SQLite in memory,
    or a long path where there is no abstract namespace (then the poll alone finds work)."""
    pg_channel(channel)  # checks the name
    path = sqlite_file(database_url)
    if path is None:
        return None
    full = os.path.abspath(path)
    address = f"{full}.{channel}.wake"
    if len(os.fsencode(address)) <= _MAX_PATH:
        return address
    if not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(os.fsencode(full)).hexdigest()[:32]
    return f"\0copub-{digest}-{channel}"


def send_wake(address: str) -> None:
    """One byte to ``address``, never blocking and never raising: nobody listening, or a
    listener with wake-ups already waiting in its buffer, needs no other."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.sendto(b"!", address)


async def announce(session: AsyncSession, channel: str) -> None:
    """Work for ``channel``'s loop was queued in ``session``'s transaction: wake the process
    running it once the transaction commits (see the module's docstring)."""
    await session.run_sync(announce_in, channel)


def announce_in(session: Session, channel: str) -> None:
    """:func:`announce` from SQLAlchemy's synchronous layer (in its greenlet)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {pg_channel(channel)}"))
        return
    address = wake_address(bind.engine.url.render_as_string(hide_password=False), channel)
    if address is not None:
        after_commit(session, lambda: send_wake(address))


@contextlib.asynccontextmanager
async def listening(
    engine: AsyncEngine, channel: str, wake: Callable[[], None]
) -> AsyncIterator[None]:
    """While inside: ``wake()`` (on the event loop) whenever another process announces work
    for ``channel``. Where that cannot be set up, the reason is logged and the loop polls."""
    if engine.dialect.name == "postgresql":
        async with _listening_postgres(engine, channel, wake):
            yield
        return
    address = wake_address(engine.url.render_as_string(hide_password=False), channel)
    sock = _bind(address, channel) if address is not None else None
    if sock is None:
        yield
        return
    loop = asyncio.get_running_loop()
    loop.add_reader(sock.fileno(), _drain, sock, wake)
    bound = _inode(address) if address and not address.startswith("\0") else None
    try:
        yield
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
        if bound is not None and address is not None and _inode(address) == bound:
            with contextlib.suppress(OSError):
                os.unlink(address)  # ours still: nobody listens any more


def _drain(sock: socket.socket, wake: Callable[[], None]) -> None:
    """Read every waiting byte (many writers may have sent one each), then wake once."""
    while True:
        try:
            sock.recv(64)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
    wake()


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _bind(address: str, channel: str) -> socket.socket | None:
    """A non-blocking datagram socket bound to ``address``; a socket file left by a process
    that is gone (nobody answers at it) is replaced. None, logged, when another process
    listens there already or the address cannot be bound."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or address.startswith("\0") or _answers(address):
                raise
            os.unlink(address)  # stale: left by a process that stopped without removing it
            sock.bind(address)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        log.warning(
            "not listening for %s wake-ups at %r (%s): work queued by other processes waits "
            "for the poll",
            channel,
            address,
            exc.strerror or exc,
        )
        return None
    return sock


def _answers(address: str) -> bool:
    """Whether a process is bound at the socket file ``address``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(address)
        except ConnectionRefusedError:
            return False
        except OSError:
            return True  # cannot tell: leave it alone
    return True


@contextlib.asynccontextmanager
async def _listening_postgres(
    engine: AsyncEngine, channel: str, wake: Callable[[], None]
) -> AsyncIterator[None]:
    name = pg_channel(channel)
    conn = None
    try:
        conn = await engine.connect()
        driver: Any = (await conn.get_raw_connection()).driver_connection

        def listener(*_args: Any) -> None:
            wake()

        await driver.add_listener(name, listener)
    except Exception:
        log.exception("cannot LISTEN %s; polling only", name)
        if conn is not None:
            await conn.close()
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await driver.remove_listener(name, listener)
        await conn.close()
