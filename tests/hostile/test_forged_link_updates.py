"""Attack class: forged changes of an item that came over a link.

A linked community (or anyone holding its key) sends an ``Update`` or ``Delete`` of an item
that lives on another server, with words the item's origin never wrote, or with no change
at all. Only the origin's copy counts: when it has not changed, nothing changes here (not
the text, not the item's ``updated`` time) and nothing is sent on; a Delete the origin
does not confirm removes nothing.

Three copub servers on loopback: A (hospital) links B (clinic), B links C (college), both
announcing; B's key is the attacker's; fa follows A.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from actors.store.models import ActivityRow, ObjectRow
from federation.vocab import JSON, PUBLIC
from tests.flows.copub import follow
from tests.flows.remote import RemoteServer
from tests.links.network import SLUGS, Org, carrying, post_signed, running_orgs, settled


@pytest.fixture
async def orgs(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[tuple[Org, Org, Org]]:
    urls = []
    for slug in SLUGS:
        shutil.copyfile(sqlite_template, tmp_path / f"{slug}.sqlite3")
        urls.append(f"sqlite+aiosqlite:///{tmp_path / slug}.sqlite3")
    async with running_orgs(urls, tmp_path) as found:
        yield found


@pytest.fixture
async def people() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
async def story(orgs: tuple[Org, Org, Org], people: RemoteServer) -> str:
    """A story of C's that reached A over B; fa (A's follower) got it once."""
    a, b, c = orgs
    fa = people.person("fa", shared_inbox=False)
    await follow(people, fa, a.copub, a.slug)
    await a.link(b)
    await b.link(c)
    object_id = await c.copub.publish(c.slug, "Real", "The real text.")
    await people.wait_for(carrying(object_id, fa.inbox_path))
    await settled(a, b, c)
    return object_id


async def _row(org: Org, object_id: str) -> dict[str, Any]:
    """Every column of the stored item."""
    async with org.copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
        assert row is not None
        return {column.key: getattr(row, column.key) for column in ObjectRow.__table__.columns}


def _forged(b: Org, c: Org, object_id: str, verb: str, obj: JSON | str) -> JSON:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": b.copub.urls.activity(b.slug, uuid.uuid4().hex),
        "type": verb,
        "actor": b.actor,
        "to": [PUBLIC],
        "object": obj,
    }


async def test_forged_changes_of_a_linked_item_change_nothing(
    orgs: tuple[Org, Org, Org], people: RemoteServer, story: str
) -> None:
    a, b, c = orgs
    object_id = story
    before = await _row(a, object_id)
    sent_before = await a.count(select(func.count()).select_from(ActivityRow))
    received_before = len(people.received)
    forged_note = {
        "id": object_id, "type": "Note", "attributedTo": c.actor, "name": "Real",
        "content": "<p>Forged words</p>", "to": [PUBLIC],
        "updated": "2030-01-01T00:00:00Z",
    }  # fmt: skip
    update = _forged(b, c, object_id, "Update", forged_note)
    same = _forged(b, c, object_id, "Update", object_id)  # by id: the origin's own copy
    c_update = {**update, "id": c.copub.urls.activity(c.slug, uuid.uuid4().hex),
                "actor": c.actor}  # fmt: skip
    cases = [
        # an Update from B with other words (and a later `updated`)
        update,
        # the same, announced by B as if relaying C's Update
        _forged(b, c, object_id, "Announce", c_update),
        # an Update naming the item by id only: the origin's copy, which has not changed
        same,
        # a Delete of an item its origin still serves
        _forged(b, c, object_id, "Delete", {"id": object_id, "type": "Tombstone"}),
        _forged(b, c, object_id, "Announce", {**c_update, "type": "Delete"}),
    ]
    signer = await b.signer()
    for activity in cases:
        assert await post_signed(signer, a.copub.shared_inbox, activity) == 202
        await a.copub.processed(activity["id"])
    await settled(a, b, c)
    # Then the stored item is exactly as it was: text, `updated`, not deleted
    assert await _row(a, object_id) == before
    # And A sent nothing, and fa received nothing more
    assert await a.count(select(func.count()).select_from(ActivityRow)) == sent_before
    assert len(people.received) == received_before
    _status, html = await a.copub.get(a.actor, accept="text/html")
    assert "Forged words" not in html
    assert "Real" in html
