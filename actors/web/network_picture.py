"""The network page's picture: the network document (actors/web/network_graph.py) laid out
for an SVG drawn on the server (templates/_network_picture.html; no script).

What is drawn: the community, the communities linked with it (one hop) and theirs (two
hops), each inside the circle of its organization (its server); the people in two or more
of these communities (brokers) between the communities they take part in. It is bounded:
at most ``MAX_COMMUNITIES`` communities (the nearest first) and ``MAX_PEOPLE`` people; the
picture says how many more there are (the lists under it name them all).

The layout is computed here, not by a graph library: the network has a known shape (hops
from one community, grouped by server), so rings read better than a force layout, and the
same network always gives the same picture (stable pages and ETags) without a seed or a
numerical stack (networkx's spring and Kamada-Kawai layouts need numpy and scipy, tens of
megabytes for at most a few dozen points). The organization of the community sits in the
middle; organizations one link away on a ring around it, two links away on an outer ring;
within an organization its communities on a small ring. A person sits at the middle of
the communities they take part in. Layouts are remembered per network (:func:`picture`).
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from federation.intake import safe_url
from federation.origins import host_of
from federation.vocab import JSON

MAX_COMMUNITIES = 30
MAX_PEOPLE = 12
LABEL_CHARS = 26  # a label longer than this is cut, with an ellipsis
CHAR_WIDTH = 7.0  # an estimate of a 12-px character, to keep labels inside the picture
NODE_R = 9
PERSON_R = 6
KEPT = 64  # layouts remembered (one per network version)
CLEARANCE = 40  # how near a person may be drawn to another point


@dataclass(frozen=True)
class Node:
    key: str  # the actor id
    kind: str  # "community" or "person"
    label: str
    url: str  # "" when it is not a safe http(s) URL
    x: float
    y: float
    hop: int = 0  # communities: links from this one; people: 0
    detail: str = ""  # a tooltip: the host, or the communities of a person


@dataclass(frozen=True)
class Org:
    host: str
    label: str
    x: float
    y: float
    r: float
    hop: int


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str  # "link" (one hop), "hop" (their links) or "member" (a person's community)


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    view_box: str
    orgs: list[Org]
    edges: list[Edge]
    nodes: list[Node]
    communities: int  # shown
    people: int  # shown
    more_communities: int
    more_people: int
    more_orgs: int
    desc: str = field(default="")


def clean_label(value: object, limit: int = LABEL_CHARS) -> str:
    """A name fit for one line of the picture: control and format characters (direction
    overrides, zero-width) dropped, white space folded, at most ``limit`` characters. It
    is escaped where it is written (the template)."""
    text = "".join(
        " " if ch.isspace() else ch
        for ch in str(value or "")
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _label(actor: str, labels: dict[str, str]) -> str:
    name = labels.get(actor)
    if name:
        return clean_label(name)
    path = actor.rstrip("/").rsplit("/", 1)[-1]  # https://host/c/name -> name
    return clean_label(path or host_of(actor) or actor)


def _accepted(document: JSON) -> list[JSON]:
    """Links both ways, but those asked and not (yet) accepted: the lists show those."""
    links = (*document["links"]["outgoing"], *document["links"]["incoming"])
    return [link for link in links if link.get("state") == "accepted"]


def _communities(document: JSON) -> dict[str, int]:
    """Every community of the network and its distance in links, nearest first."""
    hops: dict[str, int] = {document["community"]["id"]: 0}
    for link in _accepted(document):
        hops.setdefault(link["id"], 1)
    for hop in document["second_hop"]:
        hops.setdefault(hop["from"], 1)
    for hop in document["second_hop"]:
        for actor in hop["following"]:
            hops.setdefault(actor, 2)
    return hops


def _edges(document: JSON, shown: set[str]) -> list[tuple[str, str, str]]:
    me = document["community"]["id"]
    found: dict[tuple[str, str], str] = {}
    for link in _accepted(document):
        if link["id"] in shown:
            found.setdefault((min(me, link["id"]), max(me, link["id"])), "link")
    for hop in document["second_hop"]:
        for actor in hop["following"]:
            if hop["from"] in shown and actor in shown and actor != hop["from"]:
                found.setdefault((min(hop["from"], actor), max(hop["from"], actor)), "hop")
    return [(a, b, kind) for (a, b), kind in found.items()]


def _ring(count: int, radius: float, start: float = -math.pi / 2) -> list[tuple[float, float]]:
    if count == 1 and radius == 0:
        return [(0.0, 0.0)]
    return [
        (radius * math.cos(start + 2 * math.pi * i / count),
         radius * math.sin(start + 2 * math.pi * i / count))
        for i in range(count)
    ]  # fmt: skip


def _inner_radius(count: int) -> float:
    """The ring of an organization's communities: room for a label of each."""
    return 0.0 if count <= 1 else max(48.0, count * 30 / math.pi)


def _place_ring(
    hosts: list[str], radii: dict[str, float], inner: float, wanted: dict[str, float]
) -> tuple[dict[str, tuple[float, float]], float]:
    """Organizations on a ring just outside ``inner``, each given an arc as wide as it is,
    turned to sit as near as they can to the angle ``wanted`` for them (the first on the
    left if none is: pages are wider than tall); returns their centres and the ring's outer edge."""
    if not hosts:
        return {}, inner
    widest = max(radii[h] for h in hosts)
    arcs = {h: 2 * radii[h] + 60 for h in hosts}
    total = sum(arcs.values())
    radius = max(inner + widest + 60, total / (2 * math.pi))
    ordered = sorted(hosts, key=lambda h: (wanted.get(h, 0.0), hosts.index(h)))
    angles, angle = {}, 0.0
    for host in ordered:
        share = arcs[host] / total * 2 * math.pi
        angles[host] = angle + share / 2
        angle += share
    if wanted:  # the turn that brings them nearest where they are wanted (a circular mean)
        diffs = [wanted[h] - angles[h] for h in ordered if h in wanted]
        turn = math.atan2(sum(map(math.sin, diffs)), sum(map(math.cos, diffs)))
    else:
        turn = math.pi - angles[ordered[0]]
    centres = {
        h: (radius * math.cos(a + turn), radius * math.sin(a + turn)) for h, a in angles.items()
    }
    return centres, radius + widest


def _parents(document: JSON) -> dict[str, list[str]]:
    """For each community two links away, the linked communities that follow it."""
    found: dict[str, list[str]] = {}
    for hop in document["second_hop"]:
        for actor in hop["following"]:
            found.setdefault(actor, []).append(hop["from"])
    return found


def _clear(x: float, y: float, taken: list[tuple[float, float]]) -> tuple[float, float]:
    """``(x, y)`` moved off the points already drawn (a person on a community's dot)."""
    for _ in range(12):
        near = [(px, py) for px, py in taken if math.hypot(x - px, y - py) < CLEARANCE]
        if not near:
            break
        px, py = near[0]
        dx, dy = x - px, y - py
        distance = math.hypot(dx, dy)
        if distance < 1e-6:
            dx, dy, distance = 0.0, 1.0, 1.0
        x, y = px + dx / distance * CLEARANCE, py + dy / distance * CLEARANCE
    return x, y


def layout(document: JSON, labels: dict[str, str]) -> Picture:
    """The picture of ``document`` (the shape of ``network.json``)."""
    hops = _communities(document)
    ordered = sorted(hops, key=lambda actor: (hops[actor], host_of(actor) or "", actor))
    shown = ordered[:MAX_COMMUNITIES]
    shown_set = set(shown)
    all_hosts = {host_of(actor) or "" for actor in ordered}
    by_host: OrderedDict[str, list[str]] = OrderedDict()
    for actor in shown:
        by_host.setdefault(host_of(actor) or "", []).append(actor)
    org_hop = {host: min(hops[a] for a in actors) for host, actors in by_host.items()}
    radii = {host: _inner_radius(len(actors)) + 34 for host, actors in by_host.items()}
    centres = _org_centres(document, by_host, org_hop, radii)
    where = _community_places(by_host, centres)
    nodes = [
        Node(actor, "community", _label(actor, labels), safe_url(actor) or "",
             *where[actor], hop=hops[actor], detail=host_of(actor) or "")
        for actor in shown
    ]  # fmt: skip
    edges = [Edge(*where[a], *where[b], kind) for a, b, kind in _edges(document, shown_set)]
    people = [b for b in document["brokers"] if len(shown_set & set(b["communities"])) >= 2]
    _place_people(people[:MAX_PEOPLE], where, labels, nodes, edges)
    orgs = [
        Org(host, clean_label(host, 40), *centres[host], radii[host], org_hop[host])
        for host in by_host
    ]
    width, height, view_box = _bounds(orgs, nodes)
    picture = Picture(
        width, height, view_box, orgs, edges, nodes,
        communities=len(shown), people=min(len(people), MAX_PEOPLE),
        more_communities=len(ordered) - len(shown),
        more_people=max(len(document["brokers"]) - MAX_PEOPLE, 0),
        more_orgs=len(all_hosts) - len(by_host),
    )  # fmt: skip
    return _described(picture)


def _org_centres(
    document: JSON,
    by_host: dict[str, list[str]],
    org_hop: dict[str, int],
    radii: dict[str, float],
) -> dict[str, tuple[float, float]]:
    """Where each organization (host) stands: this one in the middle, those one hop away on
    a first ring, the others on a second, each turned towards the hosts it came through."""
    me_host = host_of(document["community"]["id"]) or ""
    centres: dict[str, tuple[float, float]] = {me_host: (0.0, 0.0)}
    first = [h for h in by_host if h != me_host and org_hop[h] <= 1]
    second = [h for h in by_host if h != me_host and org_hop[h] >= 2]
    ring, edge = _place_ring(first, radii, radii[me_host], {})
    centres.update(ring)
    parents = _parents(document)
    wanted: dict[str, float] = {}
    for host in second:
        hosts = {host_of(p) or "" for a in by_host[host] for p in parents.get(a, [])}
        points = [centres[h] for h in sorted(hosts) if h in centres and h != me_host]
        if points:
            wanted[host] = math.atan2(sum(y for _, y in points), sum(x for x, _ in points))
    ring, _ = _place_ring(second, radii, edge, wanted)
    centres.update(ring)
    return centres


def _community_places(
    by_host: dict[str, list[str]], centres: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Each community on a small ring around its organization's centre."""
    where: dict[str, tuple[float, float]] = {}
    for host, actors in by_host.items():
        cx, cy = centres[host]
        for actor, (dx, dy) in zip(
            actors, _ring(len(actors), _inner_radius(len(actors))), strict=True
        ):
            where[actor] = (cx + dx, cy + dy)
    return where


def _place_people(
    people: list[JSON],
    where: dict[str, tuple[float, float]],
    labels: dict[str, str],
    nodes: list[Node],
    edges: list[Edge],
) -> None:
    """Each person between the communities they belong to (added to ``nodes``, with a
    ``member`` edge to each of them)."""
    shown_set = set(where)
    taken = list(where.values())
    for person in people:
        places = sorted(shown_set & set(person["communities"]))
        x = sum(where[c][0] for c in places) / len(places)
        y = sum(where[c][1] for c in places) / len(places)
        x, y = _clear(x, y + 20, taken)  # a little below the middle, clear of the lines
        taken.append((x, y))
        name = person.get("name") or person.get("handle") or person["id"]
        nodes.append(
            Node(person["id"], "person", clean_label(name), person.get("url") or "", x, y,
                 detail=", ".join(_label(c, labels) for c in places))
        )  # fmt: skip
        edges.extend(Edge(x, y, *where[c], "member") for c in places)


def _bounds(orgs: list[Org], nodes: list[Node]) -> tuple[int, int, str]:
    xs: list[float] = []
    ys: list[float] = []
    for org in orgs:
        half = max(org.r, len(org.label) * CHAR_WIDTH / 2)
        xs += [org.x - half, org.x + half]
        ys += [org.y - org.r - 20, org.y + org.r]
    for node in nodes:
        half = len(node.label) * CHAR_WIDTH / 2
        xs += [node.x - half, node.x + half]
        ys += [node.y - NODE_R, node.y + NODE_R + 18]
    left, right = min(xs) - 12, max(xs) + 12
    top, bottom = min(ys) - 12, max(ys) + 12
    width, height = math.ceil(right - left), math.ceil(bottom - top)
    return width, height, f"{left:.0f} {top:.0f} {width} {height}"


def _described(picture: Picture) -> Picture:
    orgs = len(picture.orgs) + picture.more_orgs
    communities = picture.communities + picture.more_communities
    people = picture.people + picture.more_people
    desc = (
        f"{communities} {'community' if communities == 1 else 'communities'} on {orgs} "
        f"{'server' if orgs == 1 else 'servers'}, and {people} "
        f"{'person' if people == 1 else 'people'} taking part in more than one of them. "
        "The lists below name the same."
    )
    return replace(picture, desc=desc)


_kept: OrderedDict[str, Picture] = OrderedDict()


def network_key(document: JSON, labels: dict[str, str]) -> str:
    """What the picture depends on (not the time the document was made)."""
    shape = {k: v for k, v in document.items() if k != "generated_at"}
    raw = json.dumps([shape, labels], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def picture(document: JSON, labels: dict[str, str]) -> Picture:
    """The layout of this network, remembered while it stays the same (a new link, name
    or fetched second hop is a new network)."""
    key = network_key(document, labels)
    found = _kept.get(key)
    if found is None:
        found = layout(document, labels)
        _kept[key] = found
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    else:
        _kept.move_to_end(key)
    return found
