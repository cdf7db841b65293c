"""The C allocator under a long-running server: glibc's malloc, limited and trimmed.

glibc gives threads malloc arenas of their own (up to eight per core) and keeps what a
thread freed for that thread's later allocations. copub's SQLite connections and DNS
lookups run in threads, so after bursts of large rows or bodies the process holds memory it
no longer uses, a little more after each burst: under ``bench/bench_hostile.py``'s hostile
mix the RSS of ``copub serve`` kept growing (13 % in ten minutes) while Python's own
objects stayed flat. A couple of arenas (``[server] malloc_arenas``), large blocks always
from mmap (``[server] malloc_mmap_threshold_kib``) and a trim every minute (``[server]
release_memory_seconds``) hold it flat. Without glibc (musl, macOS) they do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
from functools import cache

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # mallopt's parameter numbers (glibc's malloc.h)
_M_MMAP_THRESHOLD = -3


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


def _mallopt(parameter: int, value: int, environment: str) -> bool:
    """``mallopt(parameter, value)`` unless ``value`` is 0 (glibc's choice) or the operator
    set ``environment``, glibc's variable for the same. True when applied."""
    libc = _glibc()
    if value <= 0 or environment in os.environ or libc is None:
        return False
    return bool(libc.mallopt(parameter, value) == 1)


def limit_arenas(arenas: int) -> bool:
    """At most ``arenas`` malloc arenas for threads started from now on; 0 leaves glibc's
    choice, and ``MALLOC_ARENA_MAX`` in the environment wins. True when applied."""
    return _mallopt(_M_ARENA_MAX, arenas, "MALLOC_ARENA_MAX")


def fix_mmap_threshold(kib: int) -> bool:
    """Blocks of ``kib`` KiB and more come from mmap, and go back to the system when freed;
    0 leaves glibc's threshold, which rises to the largest block freed so far (up to 32
    MiB), after which a 1 MiB request body is carved from an arena and leaves holes there.
    ``MALLOC_MMAP_THRESHOLD_`` in the environment wins. True when applied."""
    return _mallopt(_M_MMAP_THRESHOLD, kib * 1024, "MALLOC_MMAP_THRESHOLD_")


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
