"""A server's or worker's event loop gets the GIL back from the signing thread within
0.5 ms (actors/cli/support.py), not Python's default 5 ms."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from actors.cli.support import SWITCH_SECONDS, new_event_loop

PYTHON_DEFAULT = 0.005


@pytest.fixture
def default_interval() -> Iterator[None]:
    """Python's default interval for the test; the process's own again afterwards."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(PYTHON_DEFAULT)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("default_interval")
def test_the_loop_of_a_server_shortens_the_switch_interval() -> None:
    loop = new_event_loop()
    loop.close()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_SECONDS)
