"""Hostile networks on the network page: remote names carrying markup, control and
direction characters stay text in the picture and well-formed in the GraphML; a network of
hundreds of communities is drawn in part."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from aiohttp.test_utils import TestClient

from actors.community import Community
from actors.web import network_picture
from actors.web.keys import SESSIONS
from tests import factories
from tests.pages.builders import Sessions
from tests.pages.network_builders import Linked, add_network
from tests.pages.test_network_picture import BOB, CLINIC, G, _get, _svg


@pytest.fixture
def db(client: TestClient[Any, Any]) -> Sessions:
    return client.app[SESSIONS]  # type: ignore[no-any-return]


@pytest.fixture
async def nightshift(db: Sessions) -> Community:
    return await factories.create_community(db)


async def test_remote_names_cannot_mark_up_the_picture(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    hostile = '<script>alert(1)</script>\x07\u202eevil"&\x1b'
    await add_network(
        db, nightshift, [Linked(CLINIC, hostile)], brokers={BOB: [CLINIC]}, names={BOB: hostile}
    )
    html = await _get(client, f"/c/{nightshift.slug}/network")
    svg = _svg(html)
    assert "<script" not in svg
    assert "\x07" not in svg
    assert "\u202e" not in svg
    assert "\x1b" not in svg
    assert "&gt;alert(1)&lt;/script&gt;…</text>" in svg
    response = await client.get(f"/c/{nightshift.slug}/network.graphml")
    body = await response.read()
    root = ET.fromstring(body)  # noqa: S314 (well-formed although the name was not)
    assert b"\x07" not in body
    assert b"<script" not in body
    labels = [d.text for d in root.iter(f"{G}data") if d.get("key") == "n_label"]
    assert '<script>alert(1)</script>evil"&' in labels


async def test_a_huge_network_is_drawn_in_part(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    # Given 40 linked communities each following 5 more, on 240 servers, 60 people between
    linked = [
        Linked(f"https://s{i}.example/c/g", f"Group {i}",
               following=[f"https://t{i}-{j}.example/c/h" for j in range(5)])
        for i in range(40)
    ]  # fmt: skip
    people = {f"https://people.example/users/p{i}": [linked[i].actor, linked[i + 1].actor]
              for i in range(30)}  # fmt: skip
    await add_network(db, nightshift, linked, brokers=people)
    html = await _get(client, f"/c/{nightshift.slug}/network")
    svg = _svg(html)
    # Then the picture holds the nearest communities and some people, and says how many more
    assert svg.count('<g class="net-community') == network_picture.MAX_COMMUNITIES
    assert svg.count('<g class="net-person') <= network_picture.MAX_PEOPLE
    assert f"and {241 - network_picture.MAX_COMMUNITIES} more communities" in html
    assert "241 communities on 241 servers" in svg
    assert len(html) < 600_000
