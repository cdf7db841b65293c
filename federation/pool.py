"""Connections to peers kept alive, within bounds.

aiohttp's connector keeps every idle connection for its keep-alive time (15 s) and counts
only the connections in use against its limit. A fan-out touches thousands of hosts once
each: to 10,000 servers it left 10,000 idle sockets in the worker, about 7 KB each (~70 MB of
its 180 MB peak) and as many file descriptors; under the usual soft limit of 1,024 open
files the connections after the first thousand or so failed (EMFILE), and the jobs waited
for their retries. :class:`KeepAliveConnector` keeps the idle connections of the
``idle_hosts`` hosts used most recently and closes those of the others as soon as one more
host would be kept (Mastodon bounds its pool of kept connections in the same way).
:class:`ClientLifecycle` gives a client that ``start``s and ``close``s its session
``async with``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ConnectionKey

DEFAULT_IDLE_HOSTS = 512


class KeepAliveConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` keeping idle connections for at most ``idle_hosts`` hosts, those
    used last (each keeps at most its per-host limit of them); ``idle_hosts=0`` keeps none."""

    def __init__(self, *, idle_hosts: int = DEFAULT_IDLE_HOSTS, **options: Any) -> None:
        super().__init__(**options)
        self.idle_hosts = max(0, idle_hosts)

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        idle = self._conns  # hosts in the order they were last released to, idle connections
        kept = idle.pop(key, None)
        if kept is not None:
            idle[key] = kept  # the host used last goes last
        while len(idle) > self.idle_hosts:
            for old, _since in idle.pop(next(iter(idle))):
                old.close()


class ClientLifecycle:
    """``async with client:`` starts it and closes it, whatever happens in the block;
    a client says how in ``start`` and ``close``."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
