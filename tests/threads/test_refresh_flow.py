"""Replies that do not address the community are found on a schedule, through the thread's
collection or the replies collections of the posts the community holds."""

from __future__ import annotations

from datetime import UTC, datetime

from actors.store import queries, social
from actors.store.models_moderation import FilterKind, FilterRow
from actors.web.conversations import THREAD_REFRESHER
from tests.flows.copub import Copub
from tests.flows.remote import Person, RemoteServer
from tests.threads.conftest import ThreadOf

SOON_AFTER = datetime(2025, 1, 16, tzinfo=UTC)  # a day after the peers' posts (PUBLISHED)


async def test_a_reply_not_to_the_community_is_found_through_replies(
    copub: Copub, remote: RemoteServer, follower: Person, thread_of: ThreadOf
) -> None:
    # Given alice's post to the community, whose server lists its replies
    post = remote.note(follower, "Coffee or tea at 3am?", mention=copub.mention("nightshift"))
    replies = f"{post['id']}-replies"
    post["replies"] = replies
    create = await remote.send_create(follower, copub.shared_inbox, post)
    await copub.processed(create["id"])
    # When dave answers alice alone (his server does not tell the community)
    dave = remote.person("dave")
    answer = remote.note(dave, "Water.", in_reply_to=post["id"])
    remote.notes[replies] = {
        "id": replies,
        "type": "Collection",
        "first": {"id": f"{replies}?page=1", "type": "CollectionPage", "partOf": replies,
                  "items": [answer["id"]]},
    }  # fmt: skip
    found = await copub.app[THREAD_REFRESHER].once(SOON_AFTER)
    # Then the community's thread has dave's answer, and a second pass adds nothing
    assert found == 1
    assert (await thread_of(post["id"]))[answer["id"]] == (post["id"], post["id"])
    assert await copub.app[THREAD_REFRESHER].once(SOON_AFTER) == 0


async def test_a_reply_not_to_the_community_is_found_through_the_context(
    copub: Copub, remote: RemoteServer, follower: Person, thread_of: ThreadOf
) -> None:
    context = f"{remote.base_url}/users/alice/statuses/topic-7"
    post = {
        **remote.note(follower, "Quiet wards?", mention=copub.mention("nightshift")),
        "context": context,
    }
    remote.notes[post["id"]] = post
    remote.notes[context] = {
        "id": context,
        "type": "OrderedCollection",
        "orderedItems": [post["id"]],
    }
    create = await remote.send_create(follower, copub.shared_inbox, post)
    await copub.processed(create["id"])
    dave, erin = remote.person("dave"), remote.person("erin")
    answer = {**remote.note(dave, "Never say quiet.", in_reply_to=post["id"]), "context": context}
    again = {**remote.note(erin, "Ha.", in_reply_to=answer["id"]), "context": context}
    remote.notes[answer["id"]], remote.notes[again["id"]] = answer, again
    # (the collection lists the answer to the answer first: parents are filed first anyway)
    listed = [post["id"], again["id"], answer["id"]]
    remote.notes[context] = {"id": context, "type": "OrderedCollection", "orderedItems": listed}
    assert await copub.app[THREAD_REFRESHER].once(SOON_AFTER) == 2
    thread = await thread_of(post["id"])
    assert thread[answer["id"]] == (post["id"], post["id"])
    assert thread[again["id"]] == (answer["id"], post["id"])


async def test_what_the_community_refuses_is_not_fetched_into_its_threads(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person,
    thread_of: ThreadOf,
) -> None:  # fmt: skip
    # Given alice's post to the community, a word filter, a banned person, and answers
    # found through the post's replies: one filtered, one by the banned person, one fine
    post = remote.note(follower, "Night snacks?", mention=copub.mention("nightshift"))
    replies = f"{post['id']}-replies"
    post["replies"] = replies
    create = await remote.send_create(follower, copub.shared_inbox, post)
    await copub.processed(create["id"])
    async with copub.sessions.begin() as session:
        community = await queries.get_community(session, "nightshift")
        assert community is not None
        session.add(FilterRow(community_id=community.id, kind=FilterKind.WORD, value="casino"))
    bo = remote2.person("bo")
    await copub.cli("block", bo.id, "--community", "nightshift")
    spam = remote.note(remote.person("sam"), "Best casino bonus!", in_reply_to=post["id"])
    banned = remote2.note(bo, "Hi.", in_reply_to=post["id"])
    fine = remote.note(remote.person("dave"), "Apples.", in_reply_to=post["id"])
    remote.notes[replies] = {
        "id": replies, "type": "OrderedCollection",
        "orderedItems": [spam["id"], banned["id"], fine["id"]],
    }  # fmt: skip
    # When copub looks at its threads again
    assert await copub.app[THREAD_REFRESHER].once(SOON_AFTER) == 1
    # Then only the fine answer is in the thread
    assert set(await thread_of(post["id"])) == {post["id"], fine["id"]}
    # And once the thread is locked, nothing more is filed in it
    async with copub.sessions.begin() as session:
        row = await social.get_object(session, post["id"])
        assert row is not None
        row.locked_at = SOON_AFTER
    late = remote.note(remote.person("erin"), "Pears.", in_reply_to=post["id"])
    remote.notes[replies]["orderedItems"].append(late["id"])  # type: ignore[index]
    assert await copub.app[THREAD_REFRESHER].once(SOON_AFTER) == 0
