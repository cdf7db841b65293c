"""``python -m actors.cli``: the ``copub`` command."""

from actors.cli import run

run()
