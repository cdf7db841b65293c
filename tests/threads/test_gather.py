"""Reading a thread's collections (actors/threads/gather.py), against documents in memory:
the shapes NodeBB and Discourse serve, and what is not read."""

from __future__ import annotations

from typing import Any

import pytest

from actors.threads.gather import collection_entries, confirmed_posts, joined
from federation.errors import FetchError
from federation.vocab import JSON

A = "https://forum.example"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def post(n: int, reply_to: int | None, host: str = A) -> JSON:
    return {
        "id": f"{host}/post/{n}", "type": "Note", "attributedTo": f"{host}/uid/{n}",
        "inReplyTo": None if reply_to is None else f"{A}/post/{reply_to}",
        "to": [PUBLIC], "content": f"post {n}",
    }  # fmt: skip


class Server:
    """Documents by URL; what was fetched, in order."""

    def __init__(self, *documents: JSON) -> None:
        self.documents = {str(d["id"]): d for d in documents}
        self.fetched: list[str] = []

    async def __call__(self, url: str) -> JSON:
        self.fetched.append(url)
        if url not in self.documents:
            raise FetchError(f"{url}: 404")
        return self.documents[url]


async def nothing_held(ids: Any) -> set[str]:
    return set()


async def test_a_topic_as_an_ordered_collection_with_some_ids_unreadable() -> None:
    # NodeBB lists its own posts by number, not URL: those cannot be fetched and are skipped
    topic = {"id": f"{A}/topic/1", "type": "OrderedCollection", "totalItems": 3,
             "orderedItems": ["103076", f"{A}/post/1", f"{A}/post/2"]}  # fmt: skip
    server = Server(topic)
    assert await collection_entries(server, topic["id"]) == [f"{A}/post/1", f"{A}/post/2"]


async def test_a_conversation_is_read_through_its_posts() -> None:
    conversation = {"id": f"{A}/topic/2", "type": "Conversation", "posts": f"{A}/topic/2/posts"}
    first = {"id": f"{A}/topic/2/posts?page=1", "type": "OrderedCollectionPage",
             "orderedItems": [f"{A}/post/1"], "next": f"{A}/topic/2/posts?page=2"}  # fmt: skip
    posts = {"id": f"{A}/topic/2/posts", "type": "OrderedCollection", "first": first}
    page2 = {"id": f"{A}/topic/2/posts?page=2", "type": "OrderedCollectionPage",
             "orderedItems": [f"{A}/post/2"]}  # fmt: skip
    server = Server(conversation, posts, page2)
    assert await collection_entries(server, conversation["id"]) == [f"{A}/post/1", f"{A}/post/2"]


@pytest.mark.parametrize("elsewhere", ["https://evil.example/topic/2/posts", f"{A}/topic/3"])
async def test_a_conversation_leads_nowhere_else(elsewhere: str) -> None:
    conversation = {"id": f"{A}/topic/3", "type": "Conversation", "posts": elsewhere}
    server = Server(conversation)
    assert await collection_entries(server, conversation["id"]) == []
    assert server.fetched == [conversation["id"]]


async def test_a_page_on_another_server_is_not_read() -> None:
    topic = {"id": f"{A}/topic/4", "type": "OrderedCollection",
             "first": "https://evil.example/page"}  # fmt: skip
    server = Server(topic)
    assert await collection_entries(server, topic["id"]) == []
    assert server.fetched == [topic["id"]]


async def test_embedded_posts_are_read_only_where_they_live() -> None:
    mine, forged = post(1, 0), {**post(2, 0, "https://victim.example"), "content": "forged"}
    server = Server()  # the victim's server has no such post
    found = await confirmed_posts(server, f"{A}/topic/5", [mine, forged], nothing_held,
                                  {f"{A}/post/0"})  # fmt: skip
    assert found == [mine]
    assert server.fetched == [forged["id"]]


def test_posts_join_the_thread_parents_first_and_strays_stay_out() -> None:
    thread = {f"{A}/post/0"}
    grandchild, child, stray = post(2, 1), post(1, 0), post(9, 8)
    assert joined([grandchild, stray, child], thread) == [child, grandchild]
    assert thread == {f"{A}/post/0", child["id"], grandchild["id"]}
