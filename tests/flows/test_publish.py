"""The coordinator publishes, edits and deletes; followers on Mastodon get it."""

from __future__ import annotations

from tests.flows.copub import AS2, Copub, follow, sqlite_only
from tests.flows.remote import Delivery, Person, RemoteServer


def about(type_: str, object_id: str, path: str | None = None) -> object:
    """A predicate: verified deliveries of ``type_`` whose object is ``object_id``."""

    def check(got: list[Delivery]) -> list[Delivery]:
        return [
            d
            for d in got
            if d.ok
            and d.type == type_
            and isinstance(d.activity.get("object"), dict)
            and d.activity["object"].get("id") == object_id
            and (path is None or d.path == path)
        ]

    return check


async def test_story_reaches_each_server_once(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given two followers on one server (with a shared inbox) and one on another (without)
    bob = remote.person("bob")
    carol = remote2.person("carol", shared_inbox=False)
    await follow(remote, bob, copub, "nightshift")
    await follow(remote2, carol, copub, "nightshift")
    assert (await copub.followers("nightshift"))[0] == 3
    # When the coordinator publishes a story with the CLI
    story = await copub.publish("nightshift", "Insulin at 3 am", "Always *double-check*.")
    # Then the Create(Note) arrives once at remote's shared inbox and at carol's inbox
    [shared] = await remote.wait_for(about("Create", story))
    [own] = await remote2.wait_for(about("Create", story))
    assert shared.path == "/inbox"
    assert own.path == carol.inbox_path
    for delivery in (shared, own):
        assert delivery.signer == copub.actor("nightshift")
        assert delivery.content_type.startswith(AS2)
        create = delivery.activity
        assert create["actor"] == copub.actor("nightshift")
        note = create["object"]
        assert note["type"] == "Note"
        assert note["attributedTo"] == copub.actor("nightshift")
        assert "<em>double-check</em>" in note["content"]
        assert "Insulin at 3 am" in note["content"]
    # And copub queued exactly one delivery per server
    create_id = shared.activity["id"]
    assert create_id == own.activity["id"]
    assert await copub.deliveries_to(remote.shared_inbox, "Create") == 1
    assert await copub.deliveries_to(bob.inbox, "Create") == 0
    assert await copub.deliveries_to(carol.inbox, "Create") == 1


@sqlite_only
async def test_edit_sends_update(copub: Copub, remote: RemoteServer, follower: Person) -> None:
    # Given a published story
    story = await copub.publish("nightshift", "Handover", "First version.")
    await remote.wait_for(about("Create", story))
    # When the coordinator edits it
    out = await copub.cli("edit", "nightshift", story, "--content", "Second version.")
    assert out.strip() == f"updated {story}"
    # Then followers get an Update with the new text and an `updated` time
    [update] = await remote.wait_for(about("Update", story))
    note = update.activity["object"]
    assert "Second version." in note["content"]
    assert note["updated"] >= note["published"]
    # And the object's URL serves the new version
    status, served = await copub.get(story)
    assert status == 200
    assert "Second version." in served["content"]


async def test_delete_sends_delete_and_leaves_a_tombstone(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given a published story
    story = await copub.publish("nightshift", "Mistake", "Posted by mistake.")
    [create] = await remote.wait_for(about("Create", story))
    # When the coordinator deletes it
    out = await copub.cli("delete", "nightshift", story)
    assert out.strip() == f"deleted {story}"
    # Then followers get a Delete of it
    [delete] = await remote.wait_for(about("Delete", story))
    assert delete.activity["object"]["type"] == "Tombstone"
    # And its URL answers 410 with a Tombstone
    status, tombstone = await copub.get(story)
    assert status == 410
    assert tombstone["type"] == "Tombstone"
    assert tombstone["id"] == story
    status, _page = await copub.get(story, accept="text/html")
    assert status == 410
    # And its text is gone from the Create's URL and from the outbox too
    status, _gone = await copub.get(create.activity["id"])
    assert status == 404
    status, outbox = await copub.get(copub.urls.community_outbox("nightshift") + "?page=1")
    assert status == 200
    assert "Posted by mistake" not in str(outbox)
    assert [a["type"] for a in outbox["orderedItems"]] == ["Delete"]
