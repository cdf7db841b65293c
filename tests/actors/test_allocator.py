"""glibc's allocator under a long-running server: arenas limited, freed memory handed back."""

from __future__ import annotations

import asyncio
import dataclasses

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
    assert (ServerSettings().malloc_arenas, ServerSettings().release_memory_seconds) == (2, 60)
    for key in ("malloc_arenas", "release_memory_seconds"):
        with pytest.raises(ConfigError, match=rf"'server\.{key}'"):
            factories.make_settings("sqlite+aiosqlite:///x.sqlite3", server={key: -1})
