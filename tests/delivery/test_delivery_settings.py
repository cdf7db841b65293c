"""The [delivery] section: defaults, the documented example, and refused values."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.settings import ConfigError, DeliverySettings, load_settings
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_the_example_file_agree() -> None:
    assert load_settings(ROOT / "config.example.toml").delivery == DeliverySettings()
    defaults = DeliverySettings()
    assert defaults.in_process_worker is True
    assert defaults.per_host_concurrency >= 8
    assert defaults.give_up_after_hours == 48


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        ({"concurrency": 0}, "'delivery.concurrency'"),
        ({"per_host_concurrency": 0}, "'delivery.per_host_concurrency'"),
        ({"poll_interval_seconds": 0}, "'delivery.poll_interval_seconds'"),
        ({"lease_seconds": 10.0}, "'delivery.lease_seconds'"),
        ({"in_process_worker": "yes"}, "'delivery.in_process_worker' must be bool"),
        ({"workers": 2}, "unknown key 'delivery.workers'"),
    ],
)
def test_refused_values_name_the_key(delivery: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        factories.make_settings("sqlite+aiosqlite:///x.sqlite3", delivery=delivery)
