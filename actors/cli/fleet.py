"""``copub serve --workers N``: N web processes on one port, and the parent that watches them.

Each member is ``copub serve`` started again by the parent, with ``--fleet-channel FD``: a
fresh interpreter that binds the port itself with ``SO_REUSEPORT``, and the kernel spreads
new connections over the members' sockets. Not a fork of one listening socket: a fork
would copy a parent that has run an event loop and loaded the metrics library before it
knew its directory; and with one shared socket the kernel hands each connection to the
process that waited last, so the members would not share the load evenly.

The parent seeds the database once (``copub serve``), then starts the members and waits
until each one serves. A member that dies after serving is started again (the port
answers meanwhile from the others). A member that exits before it serves (the port taken,
a broken config) stops the whole fleet with exit status 1, as do more than
``MAX_RESTARTS`` restarts within ``RESTART_WINDOW`` seconds: a crash loop is reported, not
hidden. SIGTERM or SIGINT to the parent sends SIGTERM to every member, which finishes
what it does (in-flight requests and deliveries) within ``STOP_SECONDS`` or is killed;
then the parent exits 0.

A member stops once whatever it is told: a later SIGTERM (systemd signalling the whole
group, then the parent passing it on) does not cut its shutdown short. And it watches its
end of the channel: when the parent is gone, even killed with SIGKILL, the channel closes
and the member stops as on SIGTERM, so no member outlives its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

log = logging.getLogger(__name__)

CHANNEL_OPTION: Final = "--fleet-channel"
READY: Final = b"ready\n"
STOP_SECONDS: Final = 75.0  # aiohttp gives open requests 60 s; the delivery worker less
RESTART_WINDOW: Final = 60.0
MAX_RESTARTS: Final = 5
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


def exit_text(code: int) -> str:
    """A process's exit status in words: ``status 1``, ``SIGKILL``."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-code).name
    return f"status {code}"


@dataclass
class Member:
    """One web process of the fleet, seen from the parent."""

    slot: int
    process: asyncio.subprocess.Process
    channel: socket.socket  # the parent's end
    exited: asyncio.Future[int] = field(init=False)
    reaped: bool = False

    def __post_init__(self) -> None:
        self.exited = asyncio.ensure_future(self.process.wait())

    @property
    def pid(self) -> int:
        return self.process.pid


class Fleet:
    """Runs ``size`` members of ``command`` (a ``copub serve`` command line, to which
    ``--fleet-channel FD`` is added) until SIGTERM or SIGINT. ``on_exit(pid)`` is called
    once for each member that has ended; ``say`` reports what happens to the members."""

    def __init__(
        self,
        command: Sequence[str],
        size: int,
        *,
        env: Mapping[str, str] | None = None,
        on_exit: Callable[[int], None] | None = None,
        say: Callable[[str], None] = print,
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self._command = list(command)
        self._size = size
        self._env = dict(env) if env is not None else None
        self._on_exit = on_exit
        self._say = say
        self._stop_seconds = stop_seconds
        self.members: dict[int, Member] = {}
        self._stop = asyncio.Event()

    async def run(self) -> int:
        """Serve until told to stop (0), or until the fleet cannot go on (1)."""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._stop.set)
        try:
            return await self._supervise()
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)
            await self._stop_all()

    async def _supervise(self) -> int:
        started = await asyncio.gather(*(self._start(slot) for slot in range(self._size)))
        if self._stop.is_set():
            return 0
        if not all(started):
            return 1
        pids = ", ".join(str(m.pid) for m in self.members.values())
        self._say(f"{self._size} web processes serving (pids {pids})")
        restarts: deque[float] = deque()
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                exits: dict[asyncio.Future[Any], Member] = {
                    m.exited: m for m in self.members.values()
                }
                done, _ = await asyncio.wait(
                    [stopping, *exits], return_when=asyncio.FIRST_COMPLETED
                )
                if self._stop.is_set():
                    self._say(f"stopping {len(exits)} web processes")
                    return 0
                for ended in done:
                    member = exits[ended]
                    self._reap(member)
                    now = time.monotonic()
                    restarts.append(now)
                    while restarts and now - restarts[0] > RESTART_WINDOW:
                        restarts.popleft()
                    if len(restarts) > MAX_RESTARTS:
                        self._say(
                            f"web process {member.slot} (pid {member.pid}) exited with "
                            f"{exit_text(ended.result())}: more than {MAX_RESTARTS} exits "
                            f"within {RESTART_WINDOW:g} s, stopping"
                        )
                        return 1
                    self._say(
                        f"web process {member.slot} (pid {member.pid}) exited with "
                        f"{exit_text(ended.result())}; starting another"
                    )
                    if not await self._start(member.slot):
                        return 0 if self._stop.is_set() else 1
        finally:
            stopping.cancel()

    async def _start(self, slot: int) -> bool:
        """Start the member of ``slot``; True once it serves. False when it exited first
        (said why) or the fleet is stopping."""
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command,
                CHANNEL_OPTION,
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=self._env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        member = self.members[slot] = Member(slot, process, ours)
        ready = asyncio.ensure_future(_until_ready(ours))
        stopping = asyncio.ensure_future(self._stop.wait())
        waits: list[asyncio.Future[Any]] = [ready, member.exited, stopping]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if ready.done() and ready.result():
                self._say(f"web process {slot} (pid {member.pid}) serving")
                return True
            if not self._stop.is_set():  # it closed its end: it is exiting
                await asyncio.wait(waits[1:], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            ready.cancel()
        if member.exited.done():
            self._say(
                f"web process {slot} (pid {member.pid}) exited with "
                f"{exit_text(member.exited.result())} before it served"
            )
        return False

    async def _stop_all(self) -> None:
        """SIGTERM to every member still running; SIGKILL to those still running after
        ``stop_seconds``; then each is reaped."""
        running = [m for m in self.members.values() if not m.exited.done()]
        for member in running:
            with contextlib.suppress(ProcessLookupError):
                member.process.send_signal(signal.SIGTERM)
        if running:
            await asyncio.wait([m.exited for m in running], timeout=self._stop_seconds)
        for member in running:
            if not member.exited.done():
                log.warning(
                    "web process %d (pid %d) did not stop: killing it", member.slot, member.pid
                )
                with contextlib.suppress(ProcessLookupError):
                    member.process.kill()
        for member in self.members.values():
            await member.exited
            self._reap(member)

    def _reap(self, member: Member) -> None:
        if member.reaped:
            return
        member.reaped = True
        member.channel.close()
        if self._on_exit is not None:
            self._on_exit(member.pid)


async def _until_ready(channel: socket.socket) -> bool:
    """Whether the member says it serves before its end of ``channel`` closes."""
    loop = asyncio.get_running_loop()
    got = b""
    while READY not in got:
        try:
            chunk = await loop.sock_recv(channel, 64)
        except OSError:
            return False
        if not chunk:
            return False
        got += chunk
    return True


class MemberChannel:
    """A member's end of the channel to its parent: it says when it serves, and stops
    the member when the parent is gone."""

    def __init__(self, fd: int) -> None:
        self._socket = socket.socket(fileno=fd)
        self._socket.setblocking(False)
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the member's loop, before it runs: stop once on SIGTERM or SIGINT, and when
        the parent is gone."""
        self._loop = loop
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._stop)
        loop.add_reader(self._socket.fileno(), self._readable)

    def serving(self, *_message: object) -> None:
        """``web.run_app``'s ``print``: called once every site listens."""
        self._socket.send(READY)

    def _readable(self) -> None:
        try:
            data = self._socket.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            log.warning("the parent process is gone: stopping")
            self._stop()

    def _stop(self) -> None:
        loop = self._loop
        if loop is None:  # pragma: no cover - set by install()
            return
        loop.remove_reader(self._socket.fileno())
        for signum in STOP_SIGNALS:  # stopping already: later signals change nothing
            loop.add_signal_handler(signum, _ignore)
        raise web.GracefulExit  # as aiohttp's own handler: run_app shuts the app down


def _ignore() -> None:
    return None
