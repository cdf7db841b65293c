"""The ``copub`` command: one module per command group.

``root`` is the group itself and where each module's commands join it; ``support`` holds
what the commands share (the loaded settings, one-transaction runs, the plugin hook that
adds an adapter's group, e.g. ``copub discourse``).

``main`` is imported from ``root`` when first asked for: importing a helper of the CLI
(``actors.cli.support``) does not load every command and what they import (the web app,
the console's WebAuthn and Argon2, the metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actors.cli.root import main

__all__ = ["main"]


def __getattr__(name: str) -> object:
    if name == "main":
        from actors.cli.root import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
