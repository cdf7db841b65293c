"""How a conversation nests on a page (actors/web/thread_view.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actors.store.models import ObjectRow
from actors.web.thread_view import MAX_DEPTH, ThreadNode, conversation, count

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def post(n: int, reply_to: int | None) -> ObjectRow:
    return ObjectRow(
        ap_id=f"https://s.example/p/{n}",
        attributed_to="https://s.example/users/a",
        in_reply_to=None if reply_to is None else f"https://s.example/p/{reply_to}",
        published=T0 + timedelta(minutes=n),
    )


def depths(nodes: list[ThreadNode], level: int = 0) -> dict[int, int]:
    found: dict[int, int] = {}
    for node in nodes:
        found[int(node.post.ap_id.rsplit("/", 1)[-1])] = level
        found |= depths(node.children, level + 1)
    return found


def test_a_long_chain_stops_nesting_at_the_readable_depth() -> None:
    chain = [post(0, None), *(post(n, n - 1) for n in range(1, 12))]
    tree = conversation(chain, chain[0].ap_id, {})
    assert count(tree) == 12
    levels = depths(tree)
    assert max(levels.values()) == MAX_DEPTH
    assert [levels[n] for n in range(12)] == [min(n, MAX_DEPTH) for n in range(12)]


def test_a_post_whose_parent_is_missing_stands_at_the_top_and_the_server_is_named() -> None:
    posts = [post(0, None), post(1, 7), post(2, 1)]
    tree = conversation(posts, posts[1].ap_id, {})
    assert [n.post.ap_id for n in tree] == [posts[0].ap_id, posts[1].ap_id]
    assert tree[1].current
    assert tree[1].children[0].post is posts[2]
    assert tree[0].server == "s.example"
