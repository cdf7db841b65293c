"""Closing the app stops its background work, whatever the store does meanwhile.

The inbox processor is stopped while it may be inside a transaction. SQLAlchemy's
``AsyncSession`` context manager finishes its commit shielded from the cancellation and,
when that commit then fails (the database went away), raises the commit's error instead of
the cancellation: the processor sees an ordinary storage error, not a stop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actors.store import inbox_queue
from tests import factories
from tests.conftest import ClientFactory


async def test_closing_the_app_stops_the_inbox_processor_when_a_store_error_hides_the_stop(
    make_client: ClientFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The processor claims nothing more once the app closes, even when the claim under
    way answers the stop with an error."""
    claiming = asyncio.Event()
    claims = 0

    async def claim(_session: Any, **_options: Any) -> list[inbox_queue.ClaimedItem]:
        nonlocal claims
        claims += 1
        if claims > 1:  # the processor went on after the stop: end it here, the test fails
            raise asyncio.CancelledError
        claiming.set()
        try:
            await asyncio.Event().wait()  # until the app stops the processor
        except asyncio.CancelledError:
            raise RuntimeError("the commit failed: connection closed") from None
        return []

    monkeypatch.setattr(inbox_queue, "claim", claim)
    # the processor alone (the delivery worker would wait for SQLite's write lock it holds)
    settings = factories.make_settings(database_url, delivery={"in_process_worker": False})
    client = await make_client(settings)
    await asyncio.wait_for(claiming.wait(), 10)
    await client.close()
    assert claims == 1, "the processor claimed again after the app closed"
