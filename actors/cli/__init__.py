"""The ``copub`` command: one module per command group.

``root`` is the group itself and where each module's commands join it; ``support`` holds
what the commands share (the loaded settings, one-transaction runs, the plugin hook that
adds an adapter's group, e.g. ``copub discourse``)."""

from actors.cli.root import main

__all__ = ["main"]
