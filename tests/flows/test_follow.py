"""Following a community from Mastodon (open and closed communities, unfollow)."""

from __future__ import annotations

from tests.flows.copub import AS2, Copub, sqlite_only
from tests.flows.remote import Delivery, Person, RemoteServer


def accepted_follow(kind: str, follow: dict) -> object:
    """A predicate: an Accept/Reject of exactly this Follow arrived verified."""

    def check(got: list[Delivery]) -> Delivery | None:
        for d in got:
            obj = d.activity.get("object")
            if d.ok and d.type == kind and isinstance(obj, dict) and obj.get("id") == follow["id"]:
                return d
        return None

    return check


async def test_follow_is_accepted_and_listed(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given a Mastodon user who found the open community by its handle
    alice = remote.person("alice")
    group = await remote.discover("@" + copub.urls.handle("nightshift"))
    assert (group["id"], group["type"]) == (community, "Group")
    # When she follows it
    follow = await remote.send_follow(alice, group["inbox"], group["id"])
    # Then an Accept embedding her exact Follow arrives, signed by the community
    accept = await remote.wait_for(accepted_follow("Accept", follow))
    assert accept.path == alice.inbox_path
    assert accept.signer == community
    assert accept.content_type.startswith(AS2)
    assert accept.activity["actor"] == community
    assert accept.activity["object"] == {
        "id": follow["id"],
        "type": "Follow",
        "actor": alice.id,
        "object": community,
    }
    # And she is listed among the followers
    assert await copub.followers("nightshift") == (1, [alice.id])


@sqlite_only
async def test_closed_community_approve(copub: Copub, remote: RemoteServer) -> None:
    # Given a closed community
    community = await copub.create_community("nightshift", closed=True)
    alice = remote.person("alice")
    # When alice follows, her request waits for the coordinator
    follow = await remote.send_follow(alice, copub.inbox("nightshift"), community)
    await copub.processed(follow["id"])
    assert alice.id in await copub.cli("followers", "pending", "nightshift")
    assert await copub.sent("Accept") == []
    assert await copub.followers("nightshift") == (0, [])
    # When the coordinator approves her
    out = await copub.cli("followers", "approve", "nightshift", alice.id)
    assert f"approved {alice.id}" in out
    # Then the Accept of her Follow arrives and she is a follower
    accept = await remote.wait_for(accepted_follow("Accept", follow))
    assert accept.activity["object"]["actor"] == alice.id
    assert await copub.followers("nightshift") == (1, [alice.id])
    assert "no pending follow requests" in await copub.cli("followers", "pending", "nightshift")


@sqlite_only
async def test_repeated_follow_is_answered_again_and_keeps_the_approval(
    copub: Copub, remote: RemoteServer
) -> None:
    # Given alice was approved as a follower of a closed community
    community = await copub.create_community("nightshift", closed=True)
    alice = remote.person("alice")
    first = await remote.send_follow(alice, copub.inbox("nightshift"), community)
    await copub.processed(first["id"])
    await copub.cli("followers", "approve", "nightshift", alice.id)
    await remote.wait_for(accepted_follow("Accept", first))
    # When she follows again (her server never saw the Accept)
    again = await remote.send_follow(alice, copub.inbox("nightshift"), community)
    await copub.processed(again["id"])
    # Then the new Follow is accepted at once: she stays a follower, once
    await remote.wait_for(accepted_follow("Accept", again))
    assert await copub.followers("nightshift") == (1, [alice.id])
    assert await copub.follower_state("nightshift", alice.id) == "accepted"


@sqlite_only
async def test_closed_community_reject(copub: Copub, remote: RemoteServer) -> None:
    # Given a pending follow request to a closed community
    community = await copub.create_community("nightshift", closed=True)
    bob = remote.person("bob")
    follow = await remote.send_follow(bob, copub.inbox("nightshift"), community)
    await copub.processed(follow["id"])
    # When the coordinator rejects it
    await copub.cli("followers", "reject", "nightshift", bob.id)
    # Then bob gets a Reject of exactly his Follow, and is neither follower nor pending
    reject = await remote.wait_for(accepted_follow("Reject", follow))
    assert reject.activity["object"] == {
        "id": follow["id"],
        "type": "Follow",
        "actor": bob.id,
        "object": community,
    }
    assert await copub.follower_state("nightshift", bob.id) is None
    assert await copub.followers("nightshift") == (0, [])


async def test_unfollow_stops_deliveries(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given alice (on remote) and carol (on remote2) follow the community
    carol = remote2.person("carol")
    await remote2.send_follow(carol, copub.inbox("nightshift"), copub.actor("nightshift"))
    await remote2.wait_for(lambda got: remote2.of_type("Accept"))
    follows = await copub.sent("Accept")
    assert len(follows) == 2
    # When alice undoes her Follow
    follow_id = next(f["object"]["id"] for f in follows if f["object"]["actor"] == follower.id)
    inner = {"id": follow_id, "type": "Follow", "actor": follower.id,
             "object": copub.actor("nightshift")}  # fmt: skip
    undo = await remote.send_undo(follower, copub.inbox("nightshift"), inner)
    await copub.processed(undo["id"])
    # Then she is no longer listed
    assert await copub.followers("nightshift") == (1, [carol.id])
    # And a new story reaches carol but not alice's server
    story = await copub.publish("nightshift", "After the unfollow", "Only carol sees this.")
    await remote2.wait_for(
        lambda _got: any(a["object"]["id"] == story for a in remote2.activities("Create"))
    )
    assert not [d for d in remote.received if d.type == "Create"]
    assert await copub.deliveries_to(remote.shared_inbox) == 0


@sqlite_only
async def test_follow_from_a_server_in_authorized_fetch_mode(copub: Copub, community: str) -> None:
    # Given a Mastodon server that answers only signed GETs (AUTHORIZED_FETCH)
    async with RemoteServer(authorized_fetch=True) as strict:
        alice = strict.person("alice")
        # When alice follows the community
        follow = await strict.send_follow(alice, copub.inbox("nightshift"), community)
        # Then copub fetched her actor with signed GETs, and she gets the Accept
        await strict.wait_for(accepted_follow("Accept", follow))
        assert strict.fetches
        signers = {signer for _path, signer in strict.fetches}
        assert signers <= {community, copub.urls.application()}
