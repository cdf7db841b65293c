"""Whole conversations with Fedify: a thread whose posts live on a
Fedify server, with the FEP-7888 ``context`` collection Fedify serves for it.

- A reply to a reply whose parent copub lacks brings in the chain (and the rest of the
  thread, through its collection).
- A reply that does not address the community is found through the thread's collection.
- Fedify reads copub's own thread collection, page by page.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from actors.store.models import ObjectRow
from actors.web.conversations import THREAD_REFRESHER
from tests.flows.copub import sqlite_only
from tests.interop.conftest import HttpsCopub
from tests.interop.fedify import FedifyPeer
from tests.interop.test_fedify_scenarios import follow

pytestmark = sqlite_only


async def held(copub: HttpsCopub, root: str) -> dict[str, tuple[str | None, str | None]]:
    """{post: (in_reply_to, thread_root)} of what copub holds of the thread under ``root``."""
    async with copub.sessions() as session:
        rows = await session.scalars(
            select(ObjectRow).where(or_(ObjectRow.ap_id == root, ObjectRow.thread_root == root))
        )
        return {r.ap_id: (r.in_reply_to, r.thread_root) for r in rows}


async def test_a_reply_to_a_reply_brings_in_the_chain(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given the peer follows the community (its posts are relayed without a hold), and a
    # thread on the Fedify server that never reached the community: a post, a reply to
    # it, and an aside answering the post
    await follow(peer, copub)
    thread = await peer.thread()
    root = await peer.note_in(thread, "Night handovers: what do you write down?")
    middle = await peer.note_in(thread, "The drips, first.", in_reply_to=root["id"])
    aside = await peer.note_in(thread, "Nothing, we talk.", in_reply_to=root["id"])
    # When a reply to the reply reaches the community, mentioning it
    reply = await peer.note_in(
        thread, "And who to call.", in_reply_to=middle["id"], target=copub.urls.handle("nightshift")
    )
    assert reply["context"] == thread
    await copub.processed(f"{reply['id']}/activity")
    # Then copub holds the chain above it, threaded under the first post, and the aside
    # that the thread's collection lists
    assert await held(copub, root["id"]) == {
        root["id"]: (None, None),
        middle["id"]: (root["id"], root["id"]),
        aside["id"]: (root["id"], root["id"]),
        reply["id"]: (middle["id"], root["id"]),
    }


async def test_a_reply_not_to_the_community_is_found_through_the_thread(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given a post to the community in a thread on the Fedify server
    await follow(peer, copub)
    thread = await peer.thread()
    post = await peer.note_in(
        thread, "Quiet wards tonight?", target=copub.urls.handle("nightshift")
    )
    await copub.processed(f"{post['id']}/activity")
    # When someone answers without addressing the community (it is not sent there)
    answer = await peer.note_in(thread, "Never say quiet.", in_reply_to=post["id"], deliver=False)
    assert await held(copub, post["id"]) == {post["id"]: (None, None)}
    # Then copub's next look at its threads finds it through the thread's collection
    assert await copub.app[THREAD_REFRESHER].once() == 1
    assert (await held(copub, post["id"]))[answer["id"]] == (post["id"], post["id"])


async def test_fedify_reads_the_thread_collection_copub_serves(
    copub: HttpsCopub, peer: FedifyPeer, community: str
) -> None:
    # Given a story of the community and a reply to it from the Fedify server
    await follow(peer, copub)
    story = await copub.publish("nightshift", "Handover", "What we checked twice.")
    created = await peer.post(copub.urls.handle("nightshift"), "And thrice.", in_reply_to=story)
    await copub.processed(created["id"])
    # When Fedify looks the story up and reads its context
    found = await peer.lookup(story)
    context = found["document"]["context"]
    assert context == f"{story}/context"
    collection = await peer.collection(context)
    # Then it reads the thread: the story, then the reply
    assert collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 2
    assert collection["items"] == [story, created["object"]["id"]]
