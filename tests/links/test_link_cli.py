"""The coordinator's link commands, and the answers a linked Group may give."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.flows.copub import Copub
from tests.flows.remote import RemoteServer
from tests.links.network import Org
from tests.links.origin import Origin, start_origins

NURSING = "/c/nursing"


@pytest.fixture
async def lemmy(home: Copub) -> AsyncIterator[Origin]:
    [origin] = await start_origins("lemmy.example")
    origin.accepting = True
    try:
        yield origin
    finally:
        await origin.close()


def handle(origin: Origin, name: str = "nursing") -> str:
    return f"@{name}@{origin.base_url.split('://', 1)[1]}"


async def test_link_lifecycle(home: Copub, lemmy: Origin) -> None:
    org, group = Org(home, "hospital"), lemmy.url(NURSING)
    # link: a signed Follow from the community, pending until the Accept
    out = await home.cli("link", "hospital", handle(lemmy))
    assert f"asked to link hospital with nursing@{lemmy.base_url.split('://')[1]}" in out
    await org.wait_link(group, "accepted")
    follow_ = await lemmy.wait_for("Follow")
    assert (follow_["actor"], follow_["object"]) == (home.actor("hospital"), group)
    listed = await home.cli("links", "hospital")
    assert f"out\taccepted\tnone\t{handle(lemmy)}\t{group}" in listed
    # link again with another policy: no new Follow, the policy changes
    out = await home.cli("link", "hospital", group, "--policy", "announce")
    assert "is linked with" in out
    assert [a["type"] for a in lemmy.received].count("Follow") == 1
    out = await home.cli("link-policy", "hospital", handle(lemmy), "none")
    assert "policy none" in out
    assert "out\taccepted\tnone" in await home.cli("links", "hospital")
    # unlink: Undo embedding the very Follow
    out = await home.cli("unlink", "hospital", handle(lemmy))
    assert f"unlinked hospital from {group}" in out
    undo = await lemmy.wait_for("Undo")
    assert undo["actor"] == home.actor("hospital")
    assert undo["object"]["type"] == "Follow"
    assert undo["object"]["id"] == follow_["id"]
    assert undo["object"]["object"] == group
    assert "has no links" in await home.cli("links", "hospital")


async def test_reject_is_recorded_and_linking_again_asks_again(home: Copub, lemmy: Origin) -> None:
    org, group = Org(home, "hospital"), lemmy.url(NURSING)
    lemmy.answer = "Reject"
    await home.cli("link", "hospital", handle(lemmy))
    await org.wait_link(group, "rejected")
    assert "out\trejected\tnone" in await home.cli("links", "hospital")
    # When the coordinator asks again and the group accepts this time
    lemmy.answer = "Accept"
    await home.cli("link", "hospital", handle(lemmy))
    await org.wait_link(group, "accepted")
    follows = [a for a in lemmy.received if a["type"] == "Follow"]
    assert len(follows) == 2
    assert follows[0]["id"] != follows[1]["id"]


async def test_only_groups_can_be_linked(home: Copub, lemmy: Origin) -> None:
    out = await home.cli("link", "hospital", handle(lemmy, "ana"), ok=False)
    assert "is a Person, not a Group" in out
    out = await home.cli("link", "hospital", "@" + home.urls.handle("hospital"), ok=False)
    assert "cannot link to itself" in out
    out = await home.cli("link", "hospital", handle(lemmy, "nobody"), ok=False)
    assert "404" in out
    out = await home.cli("link", "nobody", handle(lemmy), ok=False)
    assert "no community named 'nobody'" in out
    out = await home.cli("link-policy", "hospital", lemmy.url(NURSING), "announce", ok=False)
    assert "has no link to" in out
    assert "has no links" in await home.cli("links", "hospital")


async def test_a_group_following_us_is_an_incoming_link(home: Copub, lemmy: Origin) -> None:
    # Given a closed community, followed by a Group (and by a person)
    await home.cli("community", "create", "ward", "--name", "Ward", "--closed")
    group = lemmy.url(NURSING)
    follow_ = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": lemmy.url("/activities/follow/1"),
        "type": "Follow",
        "actor": group,
        "object": home.actor("ward"),
    }
    assert await lemmy.send(group, home.inbox("ward"), follow_) == 202
    await home.processed(follow_["id"])
    async with RemoteServer() as people:
        await people.send_follow(people.person("eve"), home.inbox("ward"), home.actor("ward"))
        # Then it waits for approval like any follower, and shows as an incoming link
        assert f"in\tpending\t-\t{handle(lemmy)}\t{group}" in await home.cli("links", "ward")
        await home.cli("followers", "approve", "ward", group)
        await lemmy.wait_for("Accept")
        listed = await home.cli("links", "ward")
        assert f"in\taccepted\t-\t{handle(lemmy)}\t{group}" in listed
        assert "eve" not in listed


async def test_linking_again_keeps_the_policy_unless_one_is_given(
    home: Copub, lemmy: Origin
) -> None:
    org, group = Org(home, "hospital"), lemmy.url(NURSING)
    # Given a link made with the policy announce
    out = await home.cli("link", "hospital", handle(lemmy), "--policy", "announce")
    assert "policy announce" in out
    await org.wait_link(group, "accepted")
    # When the coordinator runs link again without --policy
    out = await home.cli("link", "hospital", handle(lemmy))
    # Then the link keeps its policy, and says so
    assert out.strip().endswith("policy announce"), out
    assert "out\taccepted\tannounce" in await home.cli("links", "hospital")
    # And a pending link asked again keeps its policy too
    lemmy.answer = "Reject"
    await home.cli("unlink", "hospital", group)
    await home.cli("link", "hospital", group, "--policy", "announce")
    await org.wait_link(group, "rejected")
    out = await home.cli("link", "hospital", group)
    assert "pending until it accepts; policy announce" in out, out
    [listed] = (await home.cli("links", "hospital")).splitlines()
    assert listed.split("\t")[2] == "announce", listed
    # And a policy given explicitly still changes it; a new link gets the default, none
    out = await home.cli("link", "hospital", group, "--policy", "none")
    assert out.strip().endswith("policy none"), out
    await home.cli("unlink", "hospital", group)
    lemmy.answer = "Accept"
    out = await home.cli("link", "hospital", group)
    assert out.strip().endswith("policy none"), out
