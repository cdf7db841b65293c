"""glibc's allocator under a long-running server: arenas limited, freed memory handed back."""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
from pathlib import Path

import pytest

from actors import allocator
from actors.settings import ConfigError, ServerSettings, Settings
from tests import factories
from tests.conftest import ClientFactory

glibc_only = pytest.mark.skipif(allocator._glibc() is None, reason="not glibc")


@glibc_only
def test_arenas_are_limited_unless_the_environment_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``MALLOC_ARENA_MAX`` set by the operator wins; 0 leaves glibc's own choice."""
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert allocator.limit_arenas(2) is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert allocator.limit_arenas(0) is False
    assert allocator.limit_arenas(2) is True


@glibc_only
def test_large_blocks_are_mapped_apart_unless_the_environment_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the threshold fixed, a freed 1 MiB block goes back to the system at once: the
    process's mapped memory drops by it (glibc's own threshold would have risen past it
    after a larger block was freed, and kept it in an arena)."""
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert allocator.fix_mmap_threshold(256) is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    assert allocator.fix_mmap_threshold(0) is False
    libc = allocator._glibc()
    assert libc is not None
    libc.malloc.restype = ctypes.c_void_p
    libc.free(ctypes.c_void_p(libc.malloc(16 << 20)))  # glibc's threshold: now 16 MiB
    assert allocator.fix_mmap_threshold(256) is True
    block = libc.malloc(1 << 20)
    mapped = vm_size_kib()
    libc.free(ctypes.c_void_p(block))
    assert mapped - vm_size_kib() >= 1024


def vm_size_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1])
    raise AssertionError("no VmSize")


async def test_the_server_hands_freed_memory_back_every_interval(
    make_client: ClientFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the app runs, freed memory is released every ``release_memory_seconds``."""
    loop = asyncio.get_running_loop()
    released = asyncio.Semaphore(0)
    monkeypatch.setattr(
        allocator, "release_free_memory", lambda: loop.call_soon_threadsafe(released.release)
    )
    server = dataclasses.replace(settings.server, release_memory_seconds=0.01)
    await make_client(dataclasses.replace(settings, server=server))
    async with asyncio.timeout(10):
        for _ in range(3):
            await released.acquire()


def test_the_allocator_settings_default_to_two_arenas_and_a_minute() -> None:
    """The defaults, and negative values refused with the key named."""
    server = ServerSettings()
    assert (server.malloc_arenas, server.malloc_mmap_threshold_kib) == (2, 256)
    assert server.release_memory_seconds == 60
    for key in ("malloc_arenas", "malloc_mmap_threshold_kib", "release_memory_seconds"):
        with pytest.raises(ConfigError, match=rf"'server\.{key}'"):
            factories.make_settings("sqlite+aiosqlite:///x.sqlite3", server={key: -1})
