"""A reply whose parent copub lacks brings in its conversation (FEP-f228), as the servers
its posts live on have it."""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import ObjectRow
from tests.flows.copub import Copub
from tests.flows.remote import Person, RemoteServer
from tests.threads.conftest import ThreadOf


async def test_a_reply_to_a_reply_brings_in_the_chain(
    copub: Copub,
    remote: RemoteServer,
    remote2: RemoteServer,
    follower: Person,
    thread_of: ThreadOf,
) -> None:
    # Given bob posted and carol replied, neither of them to the community
    bob, carol = remote2.person("bob"), remote.person("carol")
    root = remote2.note(bob, "Night handovers: what do you write down?")
    middle = remote.note(carol, "The drips, first.", in_reply_to=root["id"])
    # When alice replies to carol, mentioning the community
    reply = remote.note(
        follower, "And who to call.", mention=copub.mention("nightshift"), in_reply_to=middle["id"]
    )
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"])
    # Then copub holds the chain, threaded under bob's post
    thread = await thread_of(root["id"])
    assert thread == {
        root["id"]: (None, None),
        middle["id"]: (root["id"], root["id"]),
        reply["id"]: (middle["id"], root["id"]),
    }
    # And only alice's reply was relayed as the community's: the chain was fetched
    relayed = await copub.sent("Announce")
    assert [a["object"]["object"]["id"] for a in relayed] == [reply["id"]]


async def test_the_thread_collection_brings_in_the_rest(
    copub: Copub,
    remote: RemoteServer,
    follower: Person,
    thread_of: ThreadOf,
) -> None:
    # Given a thread on remote, with a context collection listing its posts, one of them
    # a reply that never reached the community
    carol, dave = remote.person("carol"), remote.person("dave")
    context = f"{remote.base_url}/users/carol/statuses/thread-1"
    root = {**remote.note(carol, "Breaks at night?"), "context": context}
    aside = {**remote.note(dave, "Two short ones.", in_reply_to=root["id"]), "context": context}
    remote.notes[root["id"]], remote.notes[aside["id"]] = root, aside
    reply = remote.note(
        follower, "One long one.", mention=copub.mention("nightshift"), in_reply_to=root["id"]
    )
    reply["context"] = context
    remote.notes[context] = {
        "id": context,
        "type": "OrderedCollection",
        "totalItems": 3,
        "orderedItems": [root["id"], aside["id"], reply["id"]],
    }
    # When alice's reply reaches the community
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"])
    # Then dave's reply, found through the collection, is in the thread too
    thread = await thread_of(root["id"])
    assert thread[aside["id"]] == (root["id"], root["id"])
    assert thread[reply["id"]] == (root["id"], root["id"])
    async with copub.sessions() as session:
        kinds = set(await session.scalars(select(ObjectRow.kind)))
    assert kinds == {"reply"}  # nothing fetched shows as a post to the community
