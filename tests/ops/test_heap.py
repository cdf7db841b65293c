"""copub serve freezes what startup built out of the garbage collector's sight
(actors/heap.py): full collections then walk only what came after, and stop the event loop
for milliseconds instead of 70-120 ms."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from actors import heap


class Node:
    """A tracked object that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def thawed() -> Iterator[None]:
    """The test process's objects are thawed again afterwards."""
    yield
    gc.unfreeze()


def test_startup_objects_are_frozen_and_later_garbage_still_collected(thawed: None) -> None:
    # Given objects made before the freeze
    startup = Node()
    # When the heap is frozen
    frozen = heap.freeze_startup_heap()
    # Then they are out of the collector's sight
    assert frozen == gc.get_freeze_count() > 0
    assert not any(obj is startup for obj in gc.get_objects())
    # And a cycle made afterwards is still found and freed by a full collection
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None


async def test_the_startup_handler_runs_after_the_apps_contexts(
    aiohttp_client: Any, thawed: None
) -> None:
    # Given an app whose startup context builds something, and the freeze appended last
    # (as copub serve appends it to the app of create_app)
    built: list[Node] = []

    async def context(_app: web.Application) -> AsyncIterator[None]:
        built.append(Node())
        yield

    app = web.Application()
    app.cleanup_ctx.append(context)
    app.on_startup.append(heap.freeze_on_startup)
    # When the app starts
    await aiohttp_client(app)
    # Then what the context built is frozen with the rest
    assert built
    assert not any(obj is built[0] for obj in gc.get_objects())
