"""What the fleet test (tests/flows/test_fleet.py) watches from outside the processes.

- :class:`FanoutSink`: bench/fanout_sink.py as a process, N loopback servers each on a port
  of its own (a distinct host), counting every delivery; ``wait(n)`` returns once n
  distinct ones arrived, ``duplicates()`` tells which arrived more than once.
- :class:`SingletonWatch`: PostgreSQL's ``pg_locks`` sampled every 0.1 s: how many sessions
  hold each singleton's advisory lock (``actors.store.singletons``), and from which client
  port; :func:`pid_of_client` names the local process owning such a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from actors.store.singletons import SINGLETONS, lock_key

ROOT = Path(__file__).resolve().parents[2]
SINK = ROOT / "bench" / "fanout_sink.py"
SAMPLE_SECONDS = 0.1


@dataclass
class FanoutSink:
    """``async with FanoutSink(n) as sink``: ``sink.ports`` are its servers' ports."""

    servers: int
    delay: float = 0.0  # seconds each server takes to answer
    timeout: float = 60.0
    ports: list[int] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> FanoutSink:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SINK),
            "sink",
            str(self.servers),
            str(self.delay),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        async with asyncio.timeout(self.timeout):
            line = await self._proc.stdout.readline()
        if not line:
            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            raise AssertionError(
                f"the sink of {self.servers} servers did not start: it needs a socket per "
                f"server and per connection (open files allowed here: {hard})"
            )
        info = json.loads(line)
        self.ports = info["ports"]
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", info["control"])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # the sink stops when its stdin closes
            try:
                async with asyncio.timeout(10):
                    await self._proc.wait()
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()

    async def _ask(self, line: str, timeout: float) -> str:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(line.encode() + b"\n")
        await self._writer.drain()
        async with asyncio.timeout(timeout):
            return (await self._reader.readline()).decode()

    async def wait(self, n: int, timeout: float | None = None) -> tuple[int, int]:
        """Once ``n`` distinct deliveries arrived: (distinct, total)."""
        try:
            answer = await self._ask(f"WAIT {n}", timeout or self.timeout)
        except TimeoutError:
            raise AssertionError(f"the sink did not get {n} distinct deliveries") from None
        _ok, distinct, total = answer.split()
        return int(distinct), int(total)

    async def duplicates(self) -> dict[int, int]:
        """Port -> deliveries, for the servers that got one more than once."""
        answer = json.loads(await self._ask("DUPLICATES", self.timeout))
        return {int(port): n for port, n in answer.items()}


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    holders: dict[str, tuple[int, ...]]  # singleton -> client ports of the sessions holding it

    def count(self, name: str) -> int:
        return len(self.holders.get(name, ()))


_HOLDERS = """
SELECT l.objid::bigint AS objid, a.client_port
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


@dataclass
class SingletonWatch:
    """Samples, every 0.1 s while ``running()``, who holds the advisory lock of each of
    ``names`` on the database at ``dsn`` (a plain postgresql:// URL)."""

    dsn: str
    names: tuple[str, ...]
    samples: list[Sample] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SingletonWatch]:
        conn = await asyncpg.connect(self.dsn)
        task = asyncio.create_task(self._sample(conn))
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await conn.close()

    async def _sample(self, conn: asyncpg.Connection) -> None:
        by_key = {lock_key(name) & 0xFFFFFFFF: name for name in self.names}
        while True:
            held: dict[str, list[int]] = {}
            for row in await conn.fetch(_HOLDERS, SINGLETONS):
                name = by_key.get(row["objid"])
                if name is not None:
                    held.setdefault(name, []).append(row["client_port"])
            self.samples.append(Sample(time.monotonic(), {k: tuple(v) for k, v in held.items()}))
            await asyncio.sleep(SAMPLE_SECONDS)  # the sampling interval

    async def until(self, name: str, timeout: float, *, not_port: int | None = None) -> Sample:
        """The first sample (from now on) where one session holds ``name`` (other than the
        one connected from ``not_port``)."""
        seen = len(self.samples)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sample in self.samples[seen:]:
                ports = sample.holders.get(name, ())
                if len(ports) == 1 and ports[0] != not_port:
                    return sample
            seen = len(self.samples)
            await asyncio.sleep(SAMPLE_SECONDS)
        raise AssertionError(f"nobody took {name} within {timeout} s")


def pid_of_client(port: int, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` owns the loopback TCP socket bound to local ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None
