"""A linked Group that sends hostile value-creation terms: a cycle
outside the fixed set, javascript: and data: links, a list of 20,000 links, texts of
100,000 characters with control characters, and a ``valueCreation`` collection of 5,000
entries with stories of other servers and broken indicators. What is kept is bounded and
checked (federation.intake); the pages show nothing that could run."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from actors.store.models import ObjectRow
from actors.store.models_values import ValueCacheRow, ValueStoryRow
from actors.values import MAX_ABOUT, MAX_CHANGED, MAX_FOR, MAX_WIRE_ITEMS
from actors.web.network import NETWORK_REFRESHER
from federation.vocab import JSON
from tests.flows.copub import Copub
from tests.links.conftest import home
from tests.links.origin import ACTIVITIES, Origin, start_origins
from tests.links.test_group_software import _link

__all__ = ["home"]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
HTML = "text/html"


def _note(origin: Origin, group: str, **terms: object) -> JSON:
    note_id = origin.url(f"/post/{uuid.uuid4().hex}")
    return {
        "id": note_id, "type": "Note", "attributedTo": group, "audience": group,
        "name": "Hostile story", "content": "<p>text</p>", "to": [PUBLIC],
        "published": "2026-11-30T10:00:00Z", **terms,
    }  # fmt: skip


def _create(group: str, note: JSON) -> JSON:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": note["id"] + "/create",
            "type": "Create", "actor": group, "to": [PUBLIC], "object": note}  # fmt: skip


async def _claim(home: Copub, object_id: str) -> ValueStoryRow | None:
    async with home.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
        assert row is not None, f"{object_id} was not stored"
        return await session.get(ValueStoryRow, row.id)


async def test_hostile_value_terms_from_a_linked_group(home: Copub) -> None:
    [lemmy] = await start_origins("lemmy.example", extra={"https://copub.example": home.base_url})
    try:
        lemmy.accepting = True
        lemmy.accept_with = ACTIVITIES / "lemmy" / "accept" / "accept-follow.json"
        # Given a linked Group that serves a hostile value collection
        lemmy.documents["/c/nursing"]["valueCreation"] = lemmy.url("/c/nursing/value")
        elsewhere = "https://elsewhere.example/post/1"
        entries: list[object] = [
            {"id": elsewhere, "type": "Note", "valueCycle": "applied", "name": "Not theirs"},
            {"id": "javascript:alert(1)", "type": "Note", "valueCycle": "applied"},
            {
                "type": "ValueIndicator",
                "valueCycle": "applied",
                "name": "<script>x</script>",
                "valueDate": "2026-11-30",
                "valueNumber": 1e300,
            },
            {
                "type": "ValueIndicator",
                "valueCycle": "evil",
                "name": "x",
                "valueDate": "2026-11-30",
            },
            *(
                {
                    "id": lemmy.url(f"/post/v{i}"),
                    "type": "Note",
                    "valueCycle": "potential",
                    "name": f"Story {i}",
                    "valueAbout": ["javascript:alert(1)"],
                }
                for i in range(5000)
            ),
        ]
        lemmy.documents["/c/nursing/value"] = {
            "id": lemmy.url("/c/nursing/value"),
            "type": "OrderedCollection",
            "orderedItems": entries,
        }
        group = await _link(home, lemmy, "/c/nursing")
        # When it sends a story with hostile terms, and one with a cycle outside the set
        about = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                 *(lemmy.url(f"/post/{i}") for i in range(20_000))]  # fmt: skip
        long_text = {"valueChanged": "\x07\x1b" + "c" * 100_000, "valueFor": "f" * 100_000}
        hostile = _note(lemmy, group, valueCycle="Applied", valueAbout=about, **long_text)
        bogus = _note(lemmy, group, valueCycle="evil", valueChanged="x")
        for note in (hostile, bogus):
            activity = _create(group, note)
            assert await lemmy.send(group, home.shared_inbox, activity) == 202
            await home.processed(activity["id"])
        # Then the first is kept as a story of applied value, bounded; the second as no claim
        claim = await _claim(home, hostile["id"])
        assert claim is not None
        assert claim.cycle == "applied"
        assert len(claim.about) == MAX_ABOUT
        assert all(a.startswith(lemmy.base_url + "/post/") for a in claim.about)
        assert claim.changed == "c" * MAX_CHANGED
        assert claim.for_whom == "f" * MAX_FOR
        assert await _claim(home, bogus["id"]) is None
        # When the network page asks for the linked Group's value collection
        network = home.urls.community_network("hospital")
        await home.get(network, accept=HTML)
        await home.app[NETWORK_REFRESHER].idle()
        # Then only its own stories are kept, at most 200, and indicators that can be read
        async with home.sessions() as session:
            cache = await session.get(ValueCacheRow, group)
        assert cache is not None
        assert cache.error is None
        assert len(cache.stories) == MAX_WIRE_ITEMS
        assert all(s["url"].startswith(lemmy.base_url + "/post/v") for s in cache.stories)
        assert all(s["about"] == [] for s in cache.stories)
        assert [(i["text"], i["number"]) for i in cache.indicators] == [
            ("<script>x</script>", None)
        ]
        # And the page shows them as text, with nothing that runs
        status, html = await home.get(network, accept=HTML)
        assert status == 200
        matrix = html.split('id="value-h"', 1)[1]
        assert "javascript:" not in matrix
        assert "<script>" not in matrix
        assert "&lt;script&gt;x&lt;/script&gt;" in matrix
        assert elsewhere not in matrix
        assert "Hostile story" in matrix
    finally:
        await lemmy.close()
