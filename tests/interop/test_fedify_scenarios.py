"""copub against Fedify: both directions, over https, found by handle.

Every scenario ends with ``verified_everything``: each activity copub queued for the
peer was delivered and passed Fedify's verification (HTTP signature, key ownership), and
the peer resolved its object. The peer signs with RFC 9421 first (Fedify's "double
knocking": draft-cavage only if a server refuses); copub must take it at the first knock.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actors.store.models import InboxItemRow
from actors.web.keys import CLIENT, REMOTE
from federation.resolve import resolve_handle
from tests.flows.copub import Copub, sqlite_only, wait_until
from tests.interop.checks import find, record, verified_everything
from tests.interop.conftest import HttpsCopub
from tests.interop.fedify import FedifyPeer

pytestmark = sqlite_only

CAVAGE = "draft-cavage-http-signatures-12"


def signed_with(copub: HttpsCopub) -> set[tuple[str, int]]:
    """(signature scheme, status) of every inbox POST copub answered."""
    return {(r.scheme, r.status) for r in copub.inbox_requests}


async def follow(peer: FedifyPeer, copub: Copub, slug: str = "nightshift") -> dict[str, object]:
    """The peer follows the community by its handle and verifies the Accept."""
    sent = await peer.follow(copub.urls.handle(slug))
    [accept] = await peer.wait_for(find("Accept", object_id_=sent["id"]), what="the Accept")
    assert accept["actor"] == copub.actor(slug)
    assert accept["acceptedFollow"] == sent["id"]  # the Follow came back embedded, as sent
    return sent


async def test_handles_resolve_both_ways_and_the_follow_is_accepted(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given the community, when the peer looks it up by its handle (WebFinger over https)
    found = await peer.lookup(copub.urls.handle("nightshift"))
    # Then it finds the Group
    assert (found["id"], found["type"]) == (community, "Group")
    # And Fedify's strict parser takes copub's NodeInfo
    nodeinfo = await peer.nodeinfo(copub.base_url)
    assert nodeinfo["software"]["name"] == "copub"
    assert nodeinfo["protocols"] == ["activitypub"]
    # And copub finds the peer's actor from its handle too
    assert await resolve_handle(copub.app[CLIENT], peer.handle) == peer.actor
    remote = await copub.app[REMOTE].lookup_actor(peer.actor)
    assert remote.shared_inbox == peer.shared_inbox
    # With a signed GET that Fedify verified (the peer's actor requires one)
    owners = {f["owner"] for f in await peer.fetches()}
    assert owners
    assert owners <= {community, copub.urls.application()}
    # When the peer follows the community
    sent = await follow(peer, copub)
    await record(copub, str(sent["id"]), "follow", "follow")
    # Then copub has it as an accepted follower, listed in the followers collection
    assert await copub.follower_state("nightshift", peer.actor) == "accepted"
    followers = await peer.collection(copub.urls.community_followers("nightshift"))
    assert (followers["totalItems"], followers["items"]) == (1, [peer.actor])
    assert await verified_everything(copub, peer) == 1
    # And it took the RFC 9421 signature at the first knock
    assert signed_with(copub) == {("rfc9421", 202)}


@pytest.mark.parametrize("peer", [CAVAGE], indirect=True)
async def test_a_peer_signing_draft_cavage_follows_and_posts(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given a Fedify peer that signs with draft-cavage (what most of the fediverse sends)
    # When it follows the community and posts to it
    await follow(peer, copub)
    create = await peer.post(copub.urls.handle("nightshift"), "Signed the old way.")
    # Then copub accepts both and relays the post
    await peer.wait_for(find("Announce", object_id_=create["id"]), what="the relayed post")
    assert signed_with(copub) == {("cavage", 202)}
    await verified_everything(copub, peer)


async def test_a_new_story_reaches_the_peer(copub: Copub, peer: FedifyPeer, community: str) -> None:
    # Given the peer follows the community
    await follow(peer, copub)
    # When a coordinator publishes a story
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    # Then the peer verifies its Create
    [create] = await peer.wait_for(find("Create", object_id_=story), what="the story's Create")
    assert create["actor"] == community
    note = create["document"]["object"]
    assert note["type"] == "Note"
    assert note["attributedTo"] == community
    # And it can fetch the story from copub by its URL, and find it in the outbox
    fetched = await peer.lookup(story)
    assert (fetched["id"], fetched["type"]) == (story, "Note")
    outbox = await peer.collection(copub.urls.community_outbox("nightshift"))
    assert create["id"] in outbox["items"]
    await verified_everything(copub, peer)


@pytest.mark.parametrize("copub", [{"server": {"secure_mode": True}}], indirect=True)
async def test_in_secure_mode_the_peer_reads_stories_with_signed_fetches(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given copub in secure mode, and a story
    await follow(peer, copub)
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await peer.wait_for(find("Create", object_id_=story), what="the story's Create")
    # When the peer fetches it without a signature, it gets nothing
    refused = await peer.lookup(story, ok=False)
    assert "found nothing" in refused["error"]
    # But with a GET its actor signed (RFC 9421 first), it gets the story
    fetched = await peer.lookup(story, signed=True)
    assert (fetched["id"], fetched["type"]) == (story, "Note")
    await verified_everything(copub, peer)


async def test_an_edited_then_deleted_story_is_updated_then_gone(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given a story the peer received
    await follow(peer, copub)
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await peer.wait_for(find("Create", object_id_=story), what="the story's Create")
    # When the coordinator edits it, then deletes it
    await copub.cli("edit", "nightshift", story, "--content", "What do you check three times?")
    [update] = await peer.wait_for(find("Update", object_id_=story), what="the Update")
    assert "three times" in update["document"]["object"]["content"]
    await copub.cli("delete", "nightshift", story)
    # Then the peer verifies the Delete, and the story is gone (a Tombstone, 410)
    [delete] = await peer.wait_for(find("Delete", object_id_=story), what="the Delete")
    assert delete["objectType"] == "Tombstone"
    gone = await peer.call("POST", "/lookup", {"query": story}, ok=False)
    assert "found nothing" in gone["error"]
    await verified_everything(copub, peer)


async def test_a_mention_is_relayed_back_as_announce(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given the peer follows the community
    await follow(peer, copub)
    # When it posts publicly, mentioning the community by handle
    create = await peer.post(copub.urls.handle("nightshift"), "Tips for the night round?")
    await record(copub, create["id"], "create", "create-note-mention")
    note_id = create["object"]["id"]
    # Then copub relays it: the Create announced unchanged, and the Note announced
    [boost] = await peer.wait_for(
        find("Announce", object_id_=create["id"]), what="the Announce of the Create"
    )
    assert boost["actor"] == community
    await peer.wait_for(find("Announce", object_id_=note_id), what="the Announce of the Note")
    await verified_everything(copub, peer)


async def test_a_reply_to_a_story_is_relayed(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given a story the peer received
    await follow(peer, copub)
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await peer.wait_for(find("Create", object_id_=story), what="the story's Create")
    # When the peer replies to it
    create = await peer.post(copub.urls.handle("nightshift"), "The insulin dose.", story)
    await record(copub, create["id"], "create", "create-note-reply")
    # Then copub relays the reply to the followers, the peer included
    [boost] = await peer.wait_for(
        find("Announce", object_id_=create["id"]), what="the relayed reply"
    )
    assert boost["document"]["object"]["object"]["inReplyTo"] == story
    # And lists it in the story's replies
    note = await peer.lookup(story)
    replies = await peer.collection(note["document"]["replies"])
    assert replies["items"] == [create["object"]["id"]]
    await verified_everything(copub, peer)


async def test_a_like_is_relayed(copub: Copub, peer: FedifyPeer, community: str) -> None:
    # Given a story the peer received
    await follow(peer, copub)
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    await peer.wait_for(find("Create", object_id_=story), what="the story's Create")
    # When the peer likes it
    like = await peer.like(story)
    await record(copub, like["id"], "like", "like")
    # Then copub relays the Like to the followers
    [boost] = await peer.wait_for(find("Announce", object_id_=like["id"]), what="the Like")
    assert boost["document"]["object"]["object"] == story
    assert boost["objectType"] == "Like"
    # And when the peer takes it back, the Undo is relayed too
    undo = await peer.unlike(story)
    await record(copub, undo["id"], "undo", "undo-like")
    [unboost] = await peer.wait_for(find("Announce", object_id_=undo["id"]), what="the Undo")
    assert unboost["objectType"] == "Undo"
    await verified_everything(copub, peer)


async def test_after_unfollowing_the_peer_stops_receiving(
    copub: Copub, peer: FedifyPeer, community: str
) -> None:
    # Given the peer followed the community, then unfollowed it
    await follow(peer, copub)
    undo = await peer.unfollow(copub.urls.handle("nightshift"))
    await record(copub, undo["id"], "undo", "undo-follow")
    await wait_until(lambda: _not(copub.has_follower(peer.actor)), 20, "copub to drop the follower")
    # When a story is published
    story = await copub.publish("nightshift", "Night meds", "What do you check twice?")
    # Then nothing is queued for the peer
    assert await copub.deliveries_to(peer.shared_inbox, "Create") == 0
    assert await copub.deliveries_to(peer.inbox, "Create") == 0
    # And after following again, the next story arrives but the missed one never did
    await follow(peer, copub)
    later = await copub.publish("nightshift", "Day meds", "And by day?")
    await peer.wait_for(find("Create", object_id_=later), what="the later story")
    assert not find("Create", object_id_=story)(await peer.received())
    await verified_everything(copub, peer)


async def _not(value: object) -> bool:
    return not await value  # type: ignore[misc]


@pytest.mark.parametrize("spec", ["rfc9421", CAVAGE])
async def test_a_body_altered_in_transit_is_refused(
    copub: Copub, peer: FedifyPeer, community: str, spec: str
) -> None:
    # Given the peer follows the community, and a post it signed arrives as signed
    await follow(peer, copub)
    handle = copub.urls.handle("nightshift")
    status, body = await peer.send_signed(handle, "Intact words", spec, alter=False)
    assert status == 202, body
    # When a post signed the same way arrives with its body changed after signing
    status, body = await peer.send_signed(handle, "Original words", spec, alter=True)
    # Then copub refuses it, because the digest no longer matches, and stores nothing
    assert status == 401, body
    assert "digest" in body.lower(), body
    async with copub.sessions() as session:
        contents = list(await session.scalars(select(InboxItemRow.ap_raw)))
    assert any("Intact words" in raw for raw in contents)
    assert not any("Original words" in raw for raw in contents)
    await verified_everything(copub, peer)
