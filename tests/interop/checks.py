"""What the interop scenarios assert, and how they record what the peer sent.

- ``verified_everything(copub, peer)``: every activity copub queued for the peer was
  delivered, and the peer's Fedify verified each one (it is in the peer's list of
  verified activities); nothing the peer received was refused. And the other way: every
  activity copub accepted from the peer was applied (none failed).
- ``find(type_, ...)``: a predicate over the peer's verified activities, for ``wait_for``.
- ``record(copub, activity_id, kind)``: with ``COPUB_RECORD_FIXTURES=1``, save the body
  copub received from the peer, as it arrived, under tests/fixtures/activities/fedify/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from actors.store.models import ActivityRow, DeliveryRow, InboxItemRow
from tests.flows.copub import Copub, wait_until
from tests.interop.fedify import Activity, FedifyPeer, fedify_version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activities" / "fedify"


def object_id(activity: Activity) -> str | None:
    obj = activity.get("object")
    if isinstance(obj, dict):
        value = obj.get("id")
        return value if isinstance(value, str) else None
    return obj if isinstance(obj, str) else None


def find(
    type_: str, *, object_id_: str | None = None, inner_object: str | None = None
) -> Callable[[list[Activity]], list[Activity]]:
    """Verified activities of ``type_`` whose object is ``object_id_`` (an id, or an embedded
    object with that id), or whose embedded object's own object is ``inner_object``."""

    def check(got: list[Activity]) -> list[Activity]:
        found = []
        for entry in got:
            if entry["type"] != type_:
                continue
            document = entry["document"]
            inner = document.get("object")
            if object_id_ is not None and object_id(document) != object_id_:
                continue
            if inner_object is not None and (
                not isinstance(inner, dict) or object_id(inner) != inner_object
            ):
                continue
            found.append(entry)
        return found

    return check


Row = tuple[Any, ...]


async def _settled_rows(
    copub: Copub, query: Any, state_at: int, timeout: float, what: str
) -> list[Row]:
    """The rows of ``query`` once none of them is still waiting to be worked on."""

    async def settled() -> tuple[list[Row]] | None:
        async with copub.sessions() as session:
            rows = [tuple(row) for row in await session.execute(query)]
        done = all(row[state_at] in ("done", "failed") for row in rows)
        return (rows,) if done else None  # a 1-tuple: truthy even with no rows

    result = await wait_until(settled, timeout, what)
    assert result is not None
    return result[0]


async def verified_everything(copub: Copub, peer: FedifyPeer, timeout: float = 20) -> int:
    """Wait until copub delivered everything it queued for the peer; every one of those
    activities must be in the peer's verified list. Returns how many there were."""
    query = (
        select(ActivityRow.ap_id, ActivityRow.ap_type, DeliveryRow.state, DeliveryRow.last_error)
        .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
        .where(DeliveryRow.inbox.in_([peer.inbox, peer.shared_inbox]))
    )
    jobs = await _settled_rows(copub, query, 2, timeout, "copub's deliveries to the peer")
    failed = [(ap_type, ap_id, error) for ap_id, ap_type, state, error in jobs if state != "done"]
    assert not failed, f"deliveries to the peer failed: {failed}\n{peer.log}"
    verified = {entry["id"] for entry in await peer.received()}
    missing = [(ap_type, ap_id) for ap_id, ap_type, _, _ in jobs if ap_id not in verified]
    assert not missing, f"the peer did not verify: {missing}\n{peer.log}"
    rejected = await peer.rejected()
    assert not rejected, f"the peer refused requests: {rejected}\n{peer.log}"
    await _applied_everything(copub, peer, timeout)
    return len(jobs)


async def _applied_everything(copub: Copub, peer: FedifyPeer, timeout: float) -> None:
    query = select(InboxItemRow.activity_type, InboxItemRow.state, InboxItemRow.error).where(
        InboxItemRow.actor_id == peer.actor
    )
    items = await _settled_rows(copub, query, 1, timeout, "copub to apply what the peer sent")
    failed = [(kind, error) for kind, state, error in items if state != "done"]
    assert not failed, f"copub failed to apply activities from the peer: {failed}"


async def received_raw(copub: Copub, activity_id: str) -> str:
    """The body of ``activity_id`` as copub's inbox stored it, once it arrived."""

    async def load() -> str:
        async with copub.sessions() as session:
            raw = await session.scalar(
                select(InboxItemRow.ap_raw).where(InboxItemRow.activity_id == activity_id)
            )
            return raw or ""

    return await wait_until(load, 20, f"copub to store {activity_id}")


async def record(copub: Copub, activity_id: str, kind: str, name: str) -> None:
    """Save what copub received as ``fedify/<kind>/<name>.json`` (COPUB_RECORD_FIXTURES=1)."""
    if os.environ.get("COPUB_RECORD_FIXTURES") != "1":
        return
    document = json.loads(await received_raw(copub, activity_id))
    folder = FIXTURES / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (FIXTURES / "VERSION").write_text(f"@fedify/fedify {fedify_version()}\n", encoding="utf-8")
