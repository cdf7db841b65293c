"""Linking with groups of other software: Lemmy, NodeBB, the Discourse plugin.

Recorded traffic (tests/fixtures/activities/{lemmy,nodebb,discourse}/) is served and sent
by fake origins on 127.0.0.1 (tests/links/origin.py). The community ``hospital`` links the
group with the policy ``announce``; its follower ``fa`` sees what comes over the link.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actors.inbound.linked import unwrap
from actors.store.models import ObjectRow
from actors.store.models_links import LinkItemRow
from federation.inbox import parse_activity
from federation.jsonld import expand
from federation.vocab import get_id
from tests.flows.copub import Copub
from tests.flows.remote import Person, RemoteServer
from tests.links.network import Org, carrying, settled
from tests.links.origin import ACTIVITIES, Origin, activity_files, start_origins

SOFTWARE = ("lemmy", "nodebb", "discourse")
RECORDED = [path for software in SOFTWARE for path in activity_files(software)]
AS = "https://www.w3.org/ns/activitystreams#"


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: "/".join(p.parts[-3:]))
def test_parse_round_trip(path: Path) -> None:
    # The inbox parses it, keeping every byte of meaning
    activity = parse_activity(path.read_bytes())
    assert json.loads(json.dumps(activity)) == json.loads(path.read_text())
    # Its contexts are known offline and its type survives JSON-LD expansion
    [expanded] = expand(activity)
    assert expanded["@type"] == [AS + activity["type"]]
    assert expanded["@id"] == activity["id"]
    # And copub finds the item it carries (a Like carries none)
    item = unwrap(activity) if activity["type"] in ("Announce", "Create") else None
    inner = activity.get("object")
    if isinstance(inner, dict) and inner.get("type") in ("Like", "Update", "Delete"):
        assert item is None
    elif activity["type"] in ("Announce", "Create"):
        assert get_id(item) is not None
        assert "/" in str(get_id(item))


async def _link(home: Copub, origin: Origin, group_path: str) -> str:
    """The coordinator links ``hospital`` with the group; returns the group's id."""
    group = origin.url(group_path)
    name = origin.documents[group_path]["preferredUsername"]
    handle = f"@{name}@{origin.base_url.split('://', 1)[1]}"
    out = await home.cli("link", "hospital", handle, "--policy", "announce")
    assert "pending until it accepts" in out, out
    await Org(home, "hospital").wait_link(group, "accepted")
    return group


async def _send_all(home: Copub, origin: Origin, group: str, paths: list[Path]) -> None:
    for path in paths:
        activity = origin.hosts.load(path)
        assert await origin.send(group, home.shared_inbox, activity) == 202, path.name
        await home.processed(activity["id"])


async def _filed(home: Copub) -> dict[str, tuple[str, Any, Any, Any]]:
    """Linked items by object id: (kind, title, author, in reply to)."""
    async with home.sessions() as session:
        rows = await session.execute(
            select(ObjectRow, LinkItemRow).join(LinkItemRow, LinkItemRow.object_id == ObjectRow.id)
        )
        return {
            obj.ap_id: (item.kind, obj.title, obj.attributed_to, obj.in_reply_to)
            for obj, item in rows
        }


async def _row(home: Copub, object_id: str) -> ObjectRow:
    async with home.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
    assert row is not None
    return row


async def test_lemmy_community_traffic_is_filed(
    home: Copub, fa: tuple[RemoteServer, Person]
) -> None:
    people, person = fa
    lemmy, other = await start_origins(
        "lemmy.example", "other.example", extra={"https://copub.example": home.base_url}
    )
    try:
        lemmy.accepting = True
        lemmy.accept_with = ACTIVITIES / "lemmy" / "accept" / "accept-follow.json"
        # Given hospital links the Lemmy community (its Accept embeds the Follow)
        group = await _link(home, lemmy, "/c/nursing")
        follow = await lemmy.wait_for("Follow")
        assert (follow["actor"], follow["object"]) == (home.actor("hospital"), group)
        # When the community announces a post, a comment from another instance and a vote
        announces = ACTIVITIES / "lemmy" / "announce"
        await _send_all(home, lemmy, group, [
            announces / "announce-create-page.json",
            announces / "announce-create-note.json",
            announces / "announce-like-page.json",
        ])  # fmt: skip
        # Then the post is filed as a story and the comment as a reply to it
        post, comment = lemmy.url("/post/42"), other.url("/comment/7")
        assert await _filed(home) == {
            post: ("story", "Night shift handover: what do you check first?",
                   lemmy.url("/u/ana"), None),
            comment: ("reply", None, other.url("/u/ben"), post),
        }  # fmt: skip
        assert "<strong>insulin chart</strong>" in (await _row(home, post)).content_html
        # the comment lives on another server than the community: fetched from there
        assert "/comment/7" in other.fetched
        # And fa got the post once (a plain Announce), and not the comment
        await settled(Org(home, "hospital"))
        [boost] = carrying(post, person.inbox_path)(people.received)
        assert (boost.type, boost.activity["object"]) == ("Announce", post)
        assert carrying(comment)(people.received) == []
        # When the post is edited, then deleted
        await _send_all(home, lemmy, group, [announces / "announce-update-page.json"])
        assert "fridge log" in (await _row(home, post)).content_html
        await _send_all(home, lemmy, group, [announces / "announce-delete-page.json"])
        # Then the community page no longer shows it
        assert (await _row(home, post)).deleted_at is not None
    finally:
        for origin in (lemmy, other):
            await origin.close()


async def test_nodebb_category_traffic_is_filed(
    home: Copub, fa: tuple[RemoteServer, Person]
) -> None:
    people, person = fa
    [nodebb] = await start_origins("community.nodebb.org")
    try:
        nodebb.accepting = True
        group = await _link(home, nodebb, "/category/30")
        # When the category's recorded traffic arrives (announces repeated, likes among them)
        await _send_all(home, nodebb, group, activity_files("nodebb"))
        # Then its two topics are filed once each, as stories by their authors
        first, second = nodebb.url("/post/102840"), nodebb.url("/post/103075")
        assert await _filed(home) == {
            first: ("story", "Is ActivityPub too complicated?", nodebb.url("/uid/14929"), None),
            second: ("story", "Long-formers Activate!", nodebb.url("/uid/2"), None),
        }
        # And fa got each once
        await settled(Org(home, "hospital"))
        for object_id in (first, second):
            assert len(carrying(object_id, person.inbox_path)(people.received)) == 1
    finally:
        await nodebb.close()


async def test_discourse_category_traffic_is_filed(
    home: Copub, fa: tuple[RemoteServer, Person]
) -> None:
    people, person = fa
    [forum] = await start_origins("forum.example")
    try:
        forum.accepting = True
        group_path = "/ap/actor/5c0a1d2e8f0b4e7a9c3d6f1a2b4c8e90"
        group = await _link(home, forum, group_path)
        await _send_all(home, forum, group, activity_files("discourse"))
        maria = forum.url("/ap/actor/a7d3e1f09b2c4d5e8f60718293a4b5c6")
        topic = forum.url("/ap/object/8b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e")
        reply = forum.url("/ap/object/c2d3e4f5a6b74c8d9e0f1a2b3c4d5e6f")
        rota = forum.url("/ap/object/0f1e2d3c4b5a49687766554433221100")
        assert await _filed(home) == {
            topic: ("story", "Fridge log at 3 am", maria, None),
            reply: ("reply", None, maria, topic),
            rota: ("story", "Rota for April", group, None),
        }
        await settled(Org(home, "hospital"))
        assert len(carrying(topic, person.inbox_path)(people.received)) == 1
        assert len(carrying(rota, person.inbox_path)(people.received)) == 1
        assert carrying(reply)(people.received) == []
    finally:
        await forum.close()
