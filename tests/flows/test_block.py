"""Blocked servers and actors cannot follow and get nothing."""

from __future__ import annotations

from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_follow import accepted_follow
from tests.flows.test_publish import about

pytestmark = sqlite_only


async def test_blocked_domain_gets_reject_and_no_deliveries(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given the operator blocks remote2's domain
    out = await copub.cli("block", remote2.domain)
    assert f"blocked domain {remote2.domain}" in out
    # When dave on remote2 follows
    dave = remote2.person("dave")
    sent = await remote2.send_follow(dave, copub.inbox("nightshift"), copub.actor("nightshift"))
    # Then he gets a Reject of his Follow and is not a follower
    reject = await remote2.wait_for(accepted_follow("Reject", sent))
    assert reject.activity["object"]["id"] == sent["id"]
    assert await copub.follower_state("nightshift", dave.id) is None
    # And a new story reaches alice but nothing reaches remote2
    story = await copub.publish("nightshift", "Not for them", "Blocked servers see nothing.")
    await remote.wait_for(about("Create", story))
    assert [d.type for d in remote2.received if d.ok] == ["Reject"]
    assert await copub.deliveries_to(remote2.shared_inbox) == 0


async def test_blocked_actor_is_removed_and_gets_nothing(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given bob on remote2 follows the community
    bob = remote2.person("bob")
    await follow(remote2, bob, copub, "nightshift")
    # When the coordinator blocks bob by his actor URL
    out = await copub.cli("block", bob.id, "--community", "nightshift")
    # Then he is removed from the followers
    assert f"removed follower {bob.id}" in out
    assert await copub.followers("nightshift") == (1, [follower.id])
    # And the next story reaches alice but not bob
    story = await copub.publish("nightshift", "After the block", "Bob does not see this.")
    await remote.wait_for(about("Create", story))
    assert await copub.deliveries_to(remote2.shared_inbox) == 0
    # And a new Follow from bob is rejected
    sent = await remote2.send_follow(bob, copub.inbox("nightshift"), copub.actor("nightshift"))
    await remote2.wait_for(accepted_follow("Reject", sent))
    assert await copub.follower_state("nightshift", bob.id) is None
    # And his posts are not relayed
    note = remote2.note(bob, "Let me in", mention=copub.mention("nightshift"))
    create = await remote2.send_create(bob, copub.shared_inbox, note)
    await copub.processed(create["id"])
    assert await copub.sent("Announce") == []
