"""A conversation as a page shows it: each post under the one it answers, with its author
and the author's server, nested to a readable depth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from actors.store.models import ObjectRow
from actors.store.participation import KnownActor
from actors.web.present import Person, person
from federation.origins import host_of

# deeper replies are shown at this depth, after the post they answer (a phone stays readable)
MAX_DEPTH = 5


@dataclass
class ThreadNode:
    """One post of the conversation and the replies shown under it."""

    post: ObjectRow
    author: Person
    server: str  # where its author lives (host[:port])
    current: bool  # the post whose page this is
    children: list[ThreadNode] = field(default_factory=list)


def conversation(
    posts: Sequence[ObjectRow], current: str, known: Mapping[str, KnownActor]
) -> list[ThreadNode]:
    """``posts`` (oldest first) as trees: each under the post it replies to when that is
    among them, else at the top. Below :data:`MAX_DEPTH` replies join their ancestor's
    level, in order."""
    nodes = {
        p.ap_id: ThreadNode(
            p,
            person(p.attributed_to, known),
            host_of(p.attributed_to) or "",
            p.ap_id == current,
        )
        for p in posts
    }
    depth: dict[str, int] = {}
    tops: list[ThreadNode] = []
    for post in posts:
        node = nodes[post.ap_id]
        parent = nodes.get(post.in_reply_to or "")
        if parent is None or parent is node or post.in_reply_to not in depth:
            depth[post.ap_id] = 0
            tops.append(node)
            continue
        holder = parent
        parent_depth = depth[parent.post.ap_id]
        if parent_depth + 1 > MAX_DEPTH:
            holder = _ancestor_at(nodes, depth, parent, MAX_DEPTH - 1)
            parent_depth = MAX_DEPTH - 1
        depth[post.ap_id] = parent_depth + 1
        holder.children.append(node)
    return tops


def _ancestor_at(
    nodes: Mapping[str, ThreadNode], depth: Mapping[str, int], node: ThreadNode, level: int
) -> ThreadNode:
    """The ancestor of ``node`` at ``level`` (its holder's chain is known to be that deep)."""
    while depth[node.post.ap_id] > level:
        node = nodes[node.post.in_reply_to or ""]
    return node


def count(nodes: Sequence[ThreadNode]) -> int:
    return sum(1 + count(n.children) for n in nodes)
