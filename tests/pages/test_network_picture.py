"""The network page's picture (an SVG drawn on the server) and the GraphML export."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp.test_utils import TestClient

from actors.community import Community
from actors.web import network_picture
from tests.pages.builders import Sessions
from tests.pages.network_builders import Linked, add_network

G = "{http://graphml.graphdrawing.org/xmlns}"
CLINIC = "https://clinic.example/c/nightshift"
LEMMY = "https://lemmy.example/c/nursing"
WARDS = "https://wards.example/c/wards"
BOB = "https://social.example/users/bob"


async def _three(db: Sessions, community: Community) -> None:
    await add_network(
        db, community,
        [Linked(CLINIC, "Clinic night shift", following=[WARDS]),
         Linked(LEMMY, "Nursing", incoming=True)],
        brokers={BOB: [CLINIC]}, names={BOB: "Bob Builder"},
    )  # fmt: skip


async def _get(client: TestClient[Any, Any], path: str) -> str:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status == 200, await response.text()
    return await response.text()


def _svg(html: str) -> str:
    found = re.search(r"<svg .*?</svg>", html, re.S)
    assert found, "no picture on the page"
    return found.group(0)


async def test_the_page_draws_the_network(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    # Given nightshift linked both ways, a second hop, and Bob in two communities
    await _three(db, nightshift)
    # When someone opens the network page
    html = await _get(client, f"/c/{nightshift.slug}/network")
    svg = _svg(html)
    # Then a picture names every community, organization and Bob, for eyes and ears
    assert 'role="img"' in svg
    assert 'aria-labelledby="net-title net-desc"' in svg
    assert '<title id="net-title">Network of' in svg
    assert "4 communities on 4 servers, and 1 person" in svg
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    for label in ("Clinic night shift", "Nursing", "wards", "Bob Builder", nightshift.name,
                  "clinic.example", "lemmy.example", "wards.example"):  # fmt: skip
        assert label in texts, (label, texts)
    assert svg.count('class="net-link"') == 2
    assert svg.count('class="net-hop"') == 1
    # And the lists are still there, and the GraphML export is linked
    assert "Linked communities" in html
    assert "People in more than one community" in html
    assert (
        f'href="http://127.0.0.1:{client.port}/c/{nightshift.slug}/network.graphml"' in html
        or "/network.graphml" in html
    )
    # And the same network draws the same picture (stable pages and ETags)
    assert _svg(await _get(client, f"/c/{nightshift.slug}/network")) == svg


async def test_the_network_as_graphml(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    await _three(db, nightshift)
    response = await client.get(f"/c/{nightshift.slug}/network.graphml")
    assert response.status == 200
    assert response.content_type == "application/graphml+xml"
    assert response.headers["ETag"]
    root = ET.fromstring(await response.read())  # noqa: S314 (our own answer)
    graph = root.find(f"{G}graph")
    assert graph is not None
    assert graph.get("edgedefault") == "directed"

    def data(element: ET.Element) -> dict[str, str]:
        return {d.get("key", "")[2:]: d.text or "" for d in element.findall(f"{G}data")}

    nodes = {n.get("id"): data(n) for n in graph.findall(f"{G}node")}
    me = next(i for i, n in nodes.items() if n.get("hops") == "0")
    kinds = sorted(n["kind"] for n in nodes.values())
    assert kinds.count("community") == 4
    assert kinds.count("organization") == 4
    assert nodes[BOB] == {"kind": "person", "label": "Bob Builder", "host": "social.example",
                          "url": BOB}  # fmt: skip
    assert nodes[WARDS]["hops"] == "2"
    assert nodes[CLINIC]["label"] == "Clinic night shift"
    edges = {(e.get("source"), e.get("target"), data(e)["relation"])
             for e in graph.findall(f"{G}edge")}  # fmt: skip
    assert {(me, CLINIC, "follows"), (LEMMY, me, "follows"), (CLINIC, WARDS, "follows"),
            (BOB, CLINIC, "member"), (BOB, me, "member"),
            ("org:clinic.example", CLINIC, "hosts")} <= edges  # fmt: skip


def test_only_accepted_links_are_drawn() -> None:
    me = "https://cop.test/c/nightshift"
    document = {
        "community": {"id": me},
        "links": {
            "outgoing": [{"id": CLINIC, "state": "pending"}, {"id": LEMMY, "state": "accepted"}],
            "incoming": [{"id": WARDS, "state": "rejected"}],
        },
        "second_hop": [],
        "brokers": [],
    }
    picture = network_picture.layout(document, {me: "Night shift"})
    assert [n.key for n in picture.nodes] == [me, LEMMY]
    assert [e.kind for e in picture.edges] == ["link"]
    # the same network, the same picture (remembered)
    assert network_picture.picture(document, {}) is network_picture.picture(document, {})
