"""A members-only community against Fedify: the peer, once approved, receives
its items addressed to the followers and fetches them with signed GETs; before approval
and after removal it cannot, and an unsigned fetch never can."""

from __future__ import annotations

from sqlalchemy import func, select

from actors.store.models import ActivityRow, DeliveryRow
from federation.vocab import PUBLIC
from tests.flows.copub import Copub, sqlite_only, wait_until
from tests.interop.checks import find
from tests.interop.fedify import FedifyPeer

pytestmark = sqlite_only


async def test_a_members_only_story_reaches_and_answers_only_an_approved_member(
    copub: Copub, peer: FedifyPeer
) -> None:
    await copub.cli("community", "create", "ward", "--name", "Ward 7", "--visibility", "members")
    # The peer asks to join: pending, so nothing is published to it and it may fetch nothing
    sent = await peer.follow(copub.urls.handle("ward"))
    await wait_until(lambda: copub.has_follower(peer.actor), 20, "the follow request")
    early = await copub.publish("ward", "Incident review", "What we learned.")
    assert await copub.deliveries_to(peer.shared_inbox) == 0
    assert await copub.deliveries_to(peer.inbox) == 0
    assert "found nothing" in (await peer.lookup(early, signed=True, ok=False))["error"]
    # Approved: the next story reaches it, addressed to the followers, never the Public
    await copub.cli("followers", "approve", "ward", peer.actor)
    await peer.wait_for(find("Accept", object_id_=sent["id"]), what="the Accept")
    story = await copub.publish("ward", "Second review", "And again.")
    [create] = await peer.wait_for(find("Create", object_id_=story), what="the Create")
    document = create["document"]
    assert PUBLIC not in document["to"] + document.get("cc", [])
    assert copub.urls.community_followers("ward") in document["to"] + document.get("cc", [])
    # It fetches the story signed (the earlier one too: it is a member now), never unsigned
    fetched = await peer.lookup(story, signed=True)
    assert fetched["id"] == story
    assert (await peer.lookup(early, signed=True))["id"] == early
    assert "found nothing" in (await peer.lookup(story, ok=False))["error"]
    # Removed (blocked in the community): the next signed fetch finds nothing
    await copub.cli("block", peer.actor, "--community", "ward")
    assert "found nothing" in (await peer.lookup(story, signed=True, ok=False))["error"]
    later = await copub.publish("ward", "Third review", "Not for it.")
    assert await _deliveries_of(copub, later) == 0


async def test_a_removed_member_is_told_with_a_reject_and_fetches_nothing(
    copub: Copub, peer: FedifyPeer
) -> None:
    """``copub followers remove``: the peer gets a Reject of the Follow that was accepted
    (Mastodon's "remove from followers"), its next signed fetch finds nothing, nothing more
    is queued for it, and asking again waits for a coordinator."""
    await copub.cli("community", "create", "ward", "--name", "Ward 7", "--visibility", "members")
    sent = await peer.follow(copub.urls.handle("ward"))
    await wait_until(lambda: copub.has_follower(peer.actor), 20, "the follow request")
    await copub.cli("followers", "approve", "ward", peer.actor)
    await peer.wait_for(find("Accept", object_id_=sent["id"]), what="the Accept")
    story = await copub.publish("ward", "Incident review", "What we learned.")
    await peer.wait_for(find("Create", object_id_=story), what="the Create")
    assert (await peer.lookup(story, signed=True))["id"] == story

    out = await copub.cli("followers", "remove", "ward", peer.actor)
    assert "removed" in out
    [reject] = await peer.wait_for(find("Reject", object_id_=sent["id"]), what="the Reject")
    assert reject["actor"] == copub.urls.community("ward")
    assert reject["document"]["object"]["actor"] == peer.actor
    assert "found nothing" in (await peer.lookup(story, signed=True, ok=False))["error"]
    later = await copub.publish("ward", "Second review", "Not for it.")
    assert await _deliveries_of(copub, later) == 0
    # it may ask again: a request, pending until a coordinator answers
    await peer.follow(copub.urls.handle("ward"))
    await wait_until(lambda: copub.has_follower(peer.actor), 20, "the second request")
    assert "found nothing" in (await peer.lookup(story, signed=True, ok=False))["error"]


async def _deliveries_of(copub: Copub, object_ap_id: str) -> int:
    """How many deliveries copub queued for activities carrying ``object_ap_id``."""
    query = (
        select(func.count())
        .select_from(DeliveryRow)
        .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
        .where(ActivityRow.object_ap_id == object_ap_id)
    )
    return await copub.count(query)
