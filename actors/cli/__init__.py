"""The ``copub`` command: one module per command group.

``root`` is the group itself and where each module's commands join it; ``support`` holds
what the commands share (the loaded settings, one-transaction runs, the plugin hook that
adds an adapter's group, e.g. ``copub discourse``).

``main`` is imported from ``root`` when first asked for: importing a helper of the CLI
(``actors.cli.support``) does not load every command and what they import (the web app,
the console's WebAuthn and Argon2, the metrics); each command's module loads when it runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actors.cli.root import main

__all__ = ["loading", "main"]


@contextmanager
def loading() -> Iterator[None]:
    """While the command line and a command's module load: the garbage collector paused.
    Imports make long-lived objects (modules, classes, SQLAlchemy's mappers); the
    collections they set off walk them all and free nothing: about a tenth of the time
    ``copub publish`` takes to start."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def __getattr__(name: str) -> object:
    if name == "main":
        with loading():
            from actors.cli.root import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
