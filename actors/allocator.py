"""The C allocator under a long-running server: glibc's malloc, limited and trimmed.

glibc gives threads malloc arenas of their own (up to eight per core) and keeps what a
thread freed for that thread's later allocations. copub's SQLite connections and DNS
lookups run in threads, so after bursts of large rows or bodies the process holds memory it
no longer uses, a little more after each burst: under ``bench/bench_hostile.py``'s hostile
mix the RSS of ``copub serve`` kept growing (13 % in ten minutes) while Python's own
objects stayed flat. A couple of arenas (``[server] malloc_arenas``) and a trim every
minute (``[server] release_memory_seconds``) hold it flat. Without glibc (musl, macOS)
both do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
from functools import cache

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    return libc


def limit_arenas(arenas: int) -> bool:
    """At most ``arenas`` malloc arenas for threads started from now on; 0 leaves glibc's
    choice, and ``MALLOC_ARENA_MAX`` in the environment wins. True when applied."""
    libc = _glibc()
    if arenas <= 0 or "MALLOC_ARENA_MAX" in os.environ or libc is None:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas) == 1)


def release_free_memory() -> None:
    """Hand the memory the process has freed back to the system, in every arena."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


async def release_periodically(seconds: float) -> None:
    """:func:`release_free_memory` every ``seconds``, in a thread (ctypes lets go of the
    GIL, so the event loop runs on meanwhile), until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(release_free_memory)
