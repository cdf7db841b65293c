"""The network as GraphML (``/c/{slug}/network.graphml``), for people who analyse networks
(Gephi, Cytoscape, yEd, networkx, igraph read it).

A directed graph of the network document (actors/web/network_graph.py), all of it (the
picture on the page is bounded; this is not): one node per community, organization
(server) and person in more than one community; edges ``follows`` (a link, and the links
of linked communities), ``hosts`` (an organization and its communities) and ``member``
(a person and a community they take part in). Each node and edge carries its kind; nodes
a label, their host, their distance in links from this community and their URL.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from aiohttp import web

from actors.web.network_picture import clean_label
from federation.origins import host_of
from federation.vocab import JSON

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
MEDIA_TYPE = "application/graphml+xml"
# characters XML 1.0 cannot carry at all
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

NODE_KEYS = (("kind", "string"), ("label", "string"), ("host", "string"), ("hops", "int"),
             ("url", "string"))  # fmt: skip
EDGE_KEYS = (("relation", "string"), ("state", "string"))


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


class _Graph:
    def __init__(self) -> None:
        ET.register_namespace("", GRAPHML_NS)
        self.root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
        for name, kind in NODE_KEYS:
            self._key(name, "node", kind)
        for name, kind in EDGE_KEYS:
            self._key(name, "edge", kind)
        self.graph = ET.SubElement(
            self.root, f"{{{GRAPHML_NS}}}graph", id="network", edgedefault="directed"
        )
        self.nodes: set[str] = set()
        self.edges: set[tuple[str, str, str]] = set()

    def _key(self, name: str, domain: str, kind: str) -> None:
        ET.SubElement(
            self.root, f"{{{GRAPHML_NS}}}key",
            {"id": f"{domain[0]}_{name}", "for": domain, "attr.name": name, "attr.type": kind},
        )  # fmt: skip

    def _data(self, parent: ET.Element, key: str, value: object) -> None:
        if value is None or value == "":
            return
        ET.SubElement(parent, f"{{{GRAPHML_NS}}}data", key=key).text = _text(value)

    def node(self, node_id: str, **values: object) -> None:
        if node_id in self.nodes:
            return
        self.nodes.add(node_id)
        element = ET.SubElement(self.graph, f"{{{GRAPHML_NS}}}node", id=_text(node_id))
        for name, _kind in NODE_KEYS:
            self._data(element, f"n_{name}", values.get(name))

    def edge(self, source: str, target: str, relation: str, state: str | None = None) -> None:
        if (source, target, relation) in self.edges:
            return
        self.edges.add((source, target, relation))
        element = ET.SubElement(
            self.graph, f"{{{GRAPHML_NS}}}edge", source=_text(source), target=_text(target)
        )
        self._data(element, "e_relation", relation)
        self._data(element, "e_state", state)

    def serialize(self) -> bytes:
        ET.indent(self.root)
        body: bytes = ET.tostring(self.root, encoding="utf-8", xml_declaration=True)
        return body


def to_graphml(document: JSON, labels: dict[str, str]) -> bytes:
    graph = _Graph()
    me = document["community"]["id"]
    hops: dict[str, int] = {me: 0}
    for link in (*document["links"]["outgoing"], *document["links"]["incoming"]):
        hops.setdefault(link["id"], 1)
    for hop in document["second_hop"]:
        hops.setdefault(hop["from"], 1)
        for actor in hop["following"]:
            hops.setdefault(actor, 2)

    def community(actor: str) -> None:
        host = host_of(actor) or ""
        graph.node(
            actor, kind="community", label=clean_label(labels.get(actor) or actor, 200),
            host=host, hops=hops.get(actor), url=actor,
        )  # fmt: skip
        org = f"org:{host}"
        graph.node(org, kind="organization", label=host, host=host)
        graph.edge(org, actor, "hosts")

    for actor in sorted(hops, key=lambda a: (hops[a], a)):
        community(actor)
    for link in document["links"]["outgoing"]:
        graph.edge(me, link["id"], "follows", link.get("state"))
    for link in document["links"]["incoming"]:
        graph.edge(link["id"], me, "follows", link.get("state"))
    for hop in document["second_hop"]:
        for actor in hop["following"]:
            graph.edge(hop["from"], actor, "follows")
    for person in document["brokers"]:
        graph.node(
            person["id"], kind="person",
            label=clean_label(person.get("name") or person.get("handle") or person["id"], 200),
            host=person.get("host"), url=person.get("url"),
        )  # fmt: skip
        for place in person["communities"]:
            community(place)
            graph.edge(person["id"], place, "member")
    return graph.serialize()


def graphml_response(document: JSON, labels: dict[str, str], slug: str) -> web.Response:
    return web.Response(
        body=to_graphml(document, labels),
        content_type=MEDIA_TYPE,
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{slug}-network.graphml"'},
    )
