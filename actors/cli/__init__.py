"""The ``copub`` command: one module per command group.

``root`` is the group itself and where each module's commands join it; ``support`` holds
what the commands share (the loaded settings, one-transaction runs, the plugin hook that
adds an adapter's group, e.g. ``copub discourse``).

``main`` is imported from ``root`` when first asked for: importing a helper of the CLI
(``actors.cli.support``) does not load every command and what they import (the web app,
the console's WebAuthn and Argon2, the metrics); each command's module loads when it runs."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from actors.cli.root import main

__all__ = ["PROCESS", "loading", "main", "run"]

PROCESS = {"alone": False}  # True in the copub executable: the process is the command's


@contextmanager
def loading() -> Iterator[None]:
    """While the command line and a command's module load: the garbage collector paused.
    Imports make long-lived objects (modules, classes, SQLAlchemy's mappers); the
    collections they set off walk them all and free nothing: about a tenth of the time
    ``copub publish`` takes to start. In the ``copub`` process (:func:`run`) what loaded is
    then frozen (``gc.freeze``): left out of the collections the command's own work sets
    off (else the first ones after the pause walk all of it, ~50 ms of ``copub publish``'s
    CPU); it is still freed by reference counting, and a server freezes its whole startup
    heap anyway (``actors.heap``). Elsewhere (tests calling ``main``) nothing is frozen:
    the garbage of whatever ran before would stay."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if PROCESS["alone"]:
            gc.freeze()
        if enabled:
            gc.enable()


def run() -> NoReturn:
    """The ``copub`` executable (and ``python -m actors.cli``): ``main`` as the process's
    only work. A command that has finished (all but ``serve`` and ``worker``) ends the
    process at once, its output and logs flushed: the interpreter's own teardown frees
    every module and object one by one, about 100 ms of CPU that the system's reclaiming
    of the whole process makes needless (and that a server on the same machine, woken by
    the command's commit, would rather have)."""
    PROCESS["alone"] = True
    with loading():
        from actors.cli.root import DAEMONS, RAN, main
    try:
        main(prog_name="copub")
    except SystemExit as exc:
        status = exc.code
    else:  # pragma: no cover - main() in standalone mode always exits
        status = 0
    if RAN.get("command") in DAEMONS:
        sys.exit(status)
    if status is None or isinstance(status, int):
        code = status or 0
    else:  # sys.exit("message"): printed, as the interpreter does
        print(status, file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def __getattr__(name: str) -> object:
    if name == "main":
        with loading():
            from actors.cli.root import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
