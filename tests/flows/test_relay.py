"""Members' posts and replies are shared with the followers (FEP-1b12)."""

from __future__ import annotations

import pytest

from tests.flows import mastodon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Delivery, Person, RemoteServer
from tests.flows.test_publish import about


def announces(object_id: str | None = None, inner_id: str | None = None) -> object:
    """A predicate: verified Announces of an object id (plain) or of an activity (embedded)."""

    def check(got: list[Delivery]) -> list[Delivery]:
        found = []
        for d in got:
            if not d.ok or d.type != "Announce":
                continue
            obj = d.activity.get("object")
            if (object_id is not None and obj == object_id) or (
                inner_id is not None and isinstance(obj, dict) and obj.get("id") == inner_id
            ):
                found.append(d)
        return found

    return check


async def test_member_post_is_announced(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice (on remote) and carol (on remote2) follow the community
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    # When alice posts publicly, mentioning the community
    note = remote.note(follower, "Tips for the night round?", mention=copub.mention("nightshift"))
    create = await remote.send_create(follower, copub.shared_inbox, note)
    # Then carol gets the Create, embedded unchanged, announced by the community
    [boost] = await remote2.wait_for(announces(inner_id=create["id"]))
    assert boost.signer == copub.actor("nightshift")
    assert boost.activity["actor"] == copub.actor("nightshift")
    assert boost.activity["object"] == create
    assert boost.activity["audience"] == copub.actor("nightshift")
    # And an Announce of the post itself (what Mastodon shows as a boost)
    [plain] = await remote2.wait_for(announces(object_id=note["id"]))
    assert plain.activity["audience"] == copub.actor("nightshift")


@sqlite_only
async def test_a_relayed_post_keeps_its_hidden_audience_hidden(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol follows; alice posts publicly, blind-copying someone
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    note = remote.note(follower, "Shift swap?", mention=copub.mention("nightshift"))
    note["bcc"] = [secret := remote.person("boss").id]
    create = {**mastodon.create(follower, note), "bto": [secret]}
    status, _ = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202
    # Then carol gets the post announced, without the blind copies (nobody else's to read)
    [boost] = await remote2.wait_for(announces(inner_id=create["id"]))
    assert "bto" not in boost.activity["object"]
    assert "bcc" not in boost.activity["object"]["object"]
    assert secret not in str(boost.activity)


@sqlite_only
async def test_member_edit_and_delete_are_relayed(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice's post was shared with carol
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    note = remote.note(follower, "Draft tip", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.inbox("nightshift"), note)
    await remote2.wait_for(announces(object_id=note["id"]))
    # When alice edits it, then deletes it
    update = await remote.send_update(follower, copub.shared_inbox, note, "Final tip")
    [relayed] = await remote2.wait_for(announces(inner_id=update["id"]))
    assert relayed.activity["object"]["object"]["content"] == "<p>Final tip</p>"
    delete = await remote.send_delete(follower, copub.shared_inbox, note)
    # Then carol gets the Delete too
    await remote2.wait_for(announces(inner_id=delete["id"]))


async def test_reply_is_relayed_once_and_shown_under_the_story(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given a story, followed by alice (remote) and carol (remote2)
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await remote2.wait_for(about("Create", story))
    # When alice replies to the story
    reply = remote.note(
        follower, "The insulin dose, always.", mention=copub.mention("nightshift"),
        in_reply_to=story,
    )  # fmt: skip
    create = await remote.send_create(follower, copub.inbox("nightshift"), reply)
    # Then carol gets the reply as Announce(Create), once
    [boost] = await remote2.wait_for(announces(inner_id=create["id"]))
    assert boost.activity["object"] == create
    await copub.processed(create["id"])
    # And no plain Announce of the reply was sent (a boost of every reply is noise)
    plain = [a for a in await copub.sent("Announce", reply["id"]) if a["object"] == reply["id"]]
    assert plain == []
    assert announces(object_id=reply["id"])(remote2.received) == []
    # And the reply is in the story's replies collection and on its page
    status, root = await copub.get(story + "/replies")
    assert (status, root["totalItems"]) == (200, 1)
    status, page = await copub.get(story + "/replies?page=1")
    assert reply["id"] in page.get("orderedItems", page.get("items"))
    status, html = await copub.get(story, accept="text/html")
    assert status == 200
    assert "The insulin dose, always." in html


async def test_non_follower_post_is_not_relayed(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given the default posting policy (followers) and dave, who does not follow
    dave = remote2.person("dave")
    # When dave posts mentioning the community
    note = remote2.note(dave, "Buy my stuff", mention=copub.mention("nightshift"))
    create = await remote2.send_create(dave, copub.shared_inbox, note)
    await copub.processed(create["id"])
    # Then nothing is announced, and the post is not stored in the community
    assert await copub.sent("Announce") == []
    status, _ = await copub.get(copub.base_url + "/c/nightshift/outbox")
    assert status == 200
    # And a follower's post right after is relayed (the relay works; dave was refused)
    ok = remote.note(follower, "A real question", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.shared_inbox, ok)
    await remote.wait_for(announces(object_id=ok["id"]))
    assert announces(inner_id=create["id"])(remote.received) == []


@sqlite_only
async def test_like_of_a_story_is_relayed(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given a story followed by alice and carol
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    story = await copub.publish("nightshift", "Thanks", "To the night team.")
    await remote2.wait_for(about("Create", story))
    # When alice likes it
    like = await remote.send_like(follower, copub.inbox("nightshift"), story)
    # Then carol sees the Like, announced by the community
    [boost] = await remote2.wait_for(announces(inner_id=like["id"]))
    assert boost.activity["object"]["object"] == story


@sqlite_only
async def test_post_sent_by_reference_is_fetched_and_relayed(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol follows too, and alice's server sends Creates with the Note by id only
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    note = remote.note(follower, "Fetch me", mention=copub.mention("nightshift"))
    create = {**mastodon.create(follower, note), "object": note["id"]}
    status, _ = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202
    # Then copub fetches the Note from alice's server (a signed GET) and shares it
    await remote2.wait_for(announces(object_id=note["id"]))
    note_path = note["id"].removeprefix(remote.base_url)
    assert (note_path, copub.urls.application()) in remote.fetches


@sqlite_only
@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_non_public_mention_is_not_shared(
    copub: Copub,
    remote: RemoteServer,
    remote2: RemoteServer,
    follower: Person,
    visibility: str,
) -> None:
    # Given carol follows the community too
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    # When alice mentions the community in a followers-only post or a direct message
    secret = remote.note(
        follower, "Patient in bed 4 ...", mention=copub.mention("nightshift"),
        visibility=visibility,
    )  # fmt: skip
    create = await remote.send_create(follower, copub.inbox("nightshift"), secret)
    await copub.processed(create["id"])
    # Then the community does not broadcast it to its followers
    assert await copub.sent("Announce") == []
    public = remote.note(follower, "Public question", mention=copub.mention("nightshift"))
    await remote.send_create(follower, copub.inbox("nightshift"), public)
    await remote2.wait_for(announces(object_id=public["id"]))
    assert "bed 4" not in str([d.activity for d in remote2.received])
