"""Attack class: conversations that never end, and posts that are not where they say.

When a reply arrives whose parent copub lacks, copub fetches the posts above it and the
thread's ``context`` collection (FEP-f228). A hostile server can make that walk endless
(``inReplyTo`` in a cycle, a collection whose pages point back at themselves or that lists
thousands of posts, a page that never answers) or slip in posts under another server's
ids. Every walk is bounded by count (actors/threads/limits.py) and the whole by time; a
post is taken as its id only from its own server.
"""

from __future__ import annotations

import asyncio

from actors.threads.backfill import backfill_reply
from actors.threads.limits import ThreadSettings
from federation.errors import FetchError
from federation.vocab import JSON
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.threads.conftest import ThreadOf, thread_of

__all__ = ["thread_of"]  # the fixture, for the tests below


def _fetched(remote: RemoteServer, path_part: str) -> int:
    return sum(1 for path, _signer in remote.fetches if path_part in path)


@sqlite_only
async def test_a_cycle_of_in_reply_to_ends(
    copub: Copub, remote: RemoteServer, follower: Person, thread_of: ThreadOf
) -> None:
    # Given two posts that reply to each other
    mallory = remote.person("mallory")
    first = remote.note(mallory, "Which came first?")
    second = remote.note(mallory, "This one.", in_reply_to=first["id"])
    first["inReplyTo"] = second["id"]
    # When alice replies to the first, mentioning the community
    reply = remote.note(
        follower, "Neither.", mention=copub.mention("nightshift"), in_reply_to=first["id"]
    )
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"])
    # Then each post was fetched once and the thread is stored, rooted once
    assert _fetched(remote, first["id"].rsplit("/", 1)[-1]) == 1
    assert _fetched(remote, second["id"].rsplit("/", 1)[-1]) == 1
    thread = await thread_of(second["id"])
    assert thread[reply["id"]] == (first["id"], second["id"])
    assert thread[first["id"]] == (second["id"], second["id"])


@sqlite_only
async def test_a_looping_or_huge_context_collection_is_read_to_its_bounds(
    copub: Copub, remote: RemoteServer, follower: Person, thread_of: ThreadOf
) -> None:
    # Given a thread whose collection's pages point back at themselves and list thousands
    # of posts that are not there
    carol = remote.person("carol")
    context = f"{remote.base_url}/users/carol/statuses/ctx"
    page = f"{context}-page"
    root = {**remote.note(carol, "Loop?"), "context": context}
    remote.notes[root["id"]] = root
    missing = [f"{remote.base_url}/users/carol/statuses/gone-{n}" for n in range(5000)]
    remote.notes[context] = {"id": context, "type": "OrderedCollection", "first": page}
    remote.notes[page] = {
        "id": page,
        "type": "OrderedCollectionPage",
        "partOf": context,
        "next": page,
        "orderedItems": missing,
    }
    reply = remote.note(
        follower, "Round and round.", mention=copub.mention("nightshift"), in_reply_to=root["id"]
    )
    reply["context"] = context
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"], timeout=60)
    # Then the page was read once and at most max_items posts were asked for
    limits = ThreadSettings()
    assert _fetched(remote, "ctx-page") == 1
    assert _fetched(remote, "gone-") <= limits.max_items
    assert set(await thread_of(root["id"])) == {root["id"], reply["id"]}


@sqlite_only
async def test_posts_under_another_servers_ids_are_not_taken(
    copub: Copub,
    remote: RemoteServer,
    remote2: RemoteServer,
    follower: Person,
    thread_of: ThreadOf,
) -> None:
    # Given a thread on remote whose collection embeds a post with an id on remote2 (where
    # there is no such post) and a post of its own written by someone of remote2
    carol, victim = remote.person("carol"), remote2.person("victim")
    context = f"{remote.base_url}/users/carol/statuses/ctx2"
    root = {**remote.note(carol, "Who said what?"), "context": context}
    remote.notes[root["id"]] = root
    forged_elsewhere = {
        **remote2.note(victim, "I never wrote this.", in_reply_to=root["id"]),
        "context": context,
    }
    del remote2.notes[forged_elsewhere["id"]]  # remote2 has no such post
    forged_author = {
        **remote.note(carol, "Nor this.", in_reply_to=root["id"]),
        "attributedTo": victim.id,
    }
    remote.notes[forged_author["id"]] = forged_author
    reply = remote.note(
        follower, "Hm.", mention=copub.mention("nightshift"), in_reply_to=root["id"]
    )
    reply["context"] = context
    remote.notes[context] = {
        "id": context,
        "type": "OrderedCollection",
        "orderedItems": [root["id"], forged_elsewhere, forged_author, reply["id"]],
    }
    # And the parent's server answers for a post with another post
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"])
    # Then neither forged post is in the thread
    assert set(await thread_of(root["id"])) == {root["id"], reply["id"]}


@sqlite_only
async def test_a_parent_answered_with_another_post_is_not_taken(
    copub: Copub, remote: RemoteServer, follower: Person, thread_of: ThreadOf
) -> None:
    carol = remote.person("carol")
    parent = remote.note(carol, "The real one.")
    other = remote.note(carol, "Not the one asked for.")
    remote.notes[parent["id"]] = other
    reply = remote.note(
        follower, "Hm.", mention=copub.mention("nightshift"), in_reply_to=parent["id"]
    )
    create = await remote.send_create(follower, copub.shared_inbox, reply)
    await copub.processed(create["id"])
    assert set(await thread_of(reply["id"])) == {reply["id"]}
    assert await thread_of(other["id"]) == {}


async def test_a_backfill_stops_at_its_time_bound() -> None:
    # Given a server whose collection never answers
    async def fetch(url: str) -> JSON:
        if url.endswith("/ctx"):
            await asyncio.Event().wait()
        raise FetchError(f"{url}: not here")

    async def known(ids: object) -> set[str]:
        return set()

    reply = {"id": "https://x.example/r", "inReplyTo": "https://x.example/p",
             "context": "https://x.example/ctx"}  # fmt: skip
    # When copub backfills, with a 0.2 s bound
    found = await asyncio.wait_for(
        backfill_reply(
            fetch,
            known,
            reply,
            is_local=lambda _u: False,
            limits=ThreadSettings(backfill_seconds=0.2),
        ),
        timeout=5,
    )
    # Then it ends, with what it had
    assert found.above == []
    assert found.rest == []
