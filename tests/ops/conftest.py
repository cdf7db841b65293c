"""Fixtures of the operations tests: a copub with ``[metrics]`` on, and reading /metrics.

- ``copub``, ``remote``, ``community``: those of the flow tests (tests/flows/conftest.py).
- ``metrics_port``: a free loopback port for the metrics listener.
- ``metered``: the flow tests' real copub (tests/flows/copub.py) with metrics enabled on
  ``metrics_port``, and the community ``nightshift``.
- ``scrape(port)``: GET /metrics there, parsed by Prometheus's own text parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.flows.conftest import community, copub, remote
from tests.flows.copub import Copub, start_copub
from tests.pg import free_port

__all__ = ["community", "copub", "remote"]


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
async def metered(database_url: str, tmp_path: Path, metrics_port: int) -> AsyncIterator[Copub]:
    listen = f"127.0.0.1:{metrics_port}"
    server = await start_copub(database_url, tmp_path, metrics={"enabled": True, "listen": listen})
    try:
        await server.create_community("nightshift")
        yield server
    finally:
        await server.server.close()
    assert not server.errors, f"copub answered with server errors: {server.errors}"


class Scrape:
    """One /metrics answer: its content type and its samples by name."""

    def __init__(self, content_type: str, text: str) -> None:
        self.content_type = content_type
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: list[Sample] = [s for f in self.families.values() for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with these labels (and maybe others); 0 when there is none."""
        found = [
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) <= 1, f"{name} {labels}: {len(found)} samples"
        return found[0] if found else 0.0

    def labels_of(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


async def scrape(port: int) -> Scrape:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200, await response.text()
        return Scrape(response.headers["Content-Type"], await response.text())
