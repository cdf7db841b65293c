"""Each item carries ``context``: its thread as an OrderedCollection (FEP-7888)."""

from __future__ import annotations

import pytest

from actors.web import objects
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer


@sqlite_only
async def test_an_item_names_its_thread_and_the_thread_lists_its_posts(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given a story with a reply from alice
    story = await copub.publish("nightshift", "Handover", "What we checked twice.")
    reply = remote.note(follower, "And thrice.", in_reply_to=story)
    create = await remote.send_create(follower, copub.inbox("nightshift"), reply)
    await copub.processed(create["id"])
    # When a server reads the story
    status, item = await copub.get(story)
    assert status == 200
    # Then its context is the thread: the story, then the reply, by the community
    assert item["context"] == f"{story}/context"
    assert item["replies"] == f"{story}/replies"
    status, thread = await copub.get(item["context"])
    assert status == 200
    assert thread["type"] == "OrderedCollection"
    assert thread["totalItems"] == 2
    assert thread["orderedItems"] == [story, reply["id"]]
    assert thread["attributedTo"] == copub.actor("nightshift")
    assert thread["audience"] == copub.actor("nightshift")
    assert thread["name"] == "Handover"
    # And the reply is in the story's replies
    status, page = await copub.get(f"{story}/replies?page=1")
    assert page["orderedItems"] == [reply["id"]]


@sqlite_only
async def test_a_long_thread_is_paged(
    copub: Copub, remote: RemoteServer, follower: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = await copub.publish("nightshift", "Busy", "Everyone answers.")
    monkeypatch.setattr(objects, "CONTEXT_PAGE", 2)  # a small page for the test
    for n in range(4):
        reply = remote.note(follower, f"Answer {n}", in_reply_to=story)
        create = await remote.send_create(follower, copub.inbox("nightshift"), reply)
        await copub.processed(create["id"])
    status, root = await copub.get(f"{story}/context")
    assert root["totalItems"] == 5
    assert "orderedItems" not in root
    items: list[str] = []
    page = root["first"]
    while page:
        status, document = await copub.get(page)
        assert status == 200
        items += document["orderedItems"]
        page = document.get("next")
    assert items[0] == story
    assert len(items) == 5
