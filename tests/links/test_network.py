"""The network, visible: links both ways, their links, organizations, brokers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from actors.store.models_links import NetworkCacheRow
from actors.web.network import NETWORK_REFRESHER
from tests.flows.copub import follow, wait_until
from tests.flows.remote import RemoteServer
from tests.links.network import Org, carrying, settled, sqlite_only

pytestmark = sqlite_only


async def _document(org: Org) -> dict[str, Any]:
    status, body = await org.copub.get(org.copub.urls.community_network_json(org.slug))
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def test_network_of_three_organizations(
    orgs: tuple[Org, Org, Org], people: RemoteServer
) -> None:
    a, b, c = orgs
    # Given A links B (announce), B links C (announce) and C links A: three organizations
    await a.link(b)
    await b.link(c)
    await c.link(a, policy="none")
    # And bob follows A and writes in C; dana only follows A
    bob, dana = people.person("bob"), people.person("dana")
    for person, org in ((bob, a), (bob, c), (dana, a)):
        await follow(people, person, org.copub, org.slug)
    note = people.note(bob, "Our fridge log sheet, shared.", mention=c.copub.mention(c.slug))
    await people.send_create(bob, c.copub.inbox(c.slug), note)
    await wait_until(lambda: a.stored(note["id"]), 20, "bob's post reached A")
    await settled(a, b, c)
    # When someone opens A's network (the second hop is not fetched yet)
    first = await _document(a)
    links = first["links"]
    assert [(x["id"], x["state"], x["policy"]) for x in links["outgoing"]] == [
        (b.actor, "accepted", "announce")
    ]
    assert [(x["id"], x["state"]) for x in links["incoming"]] == [(c.actor, "accepted")]
    assert {hop["from"] for hop in first["second_hop"]} == {b.actor, c.actor}
    # Then their links are fetched in the background, once
    await a.copub.app[NETWORK_REFRESHER].idle()
    network = await _document(a)
    following = {hop["from"]: hop["following"] for hop in network["second_hop"]}
    assert following == {b.actor: [c.actor], c.actor: [a.actor]}
    assert all(hop["fetched_at"] and not hop["error"] for hop in network["second_hop"])
    # And the three organizations, and bob as the one person in two communities
    hosts = {org["host"]: org["hops"] for org in network["organizations"]}
    assert hosts == {
        a.copub.urls.domain: 0, b.copub.urls.domain: 1, c.copub.urls.domain: 1
    }  # fmt: skip
    assert [(p["id"], p["communities"]) for p in network["brokers"]] == [
        (bob.id, sorted([a.actor, c.actor]))
    ]
    assert network["brokers"][0]["handle"] == f"bob@{people.domain}"
    # And the page says so, for people
    status, html = await a.copub.get(a.copub.urls.community_network(a.slug), accept="text/html")
    assert status == 200
    for text in (b.copub.urls.domain, c.copub.urls.domain, "Bob", "in 2 communities"):
        assert text in html, text
    assert "dana" not in html.lower()
    # And NodeInfo counts A's links
    status, info = await a.copub.get(a.copub.base_url + "/nodeinfo/2.1", accept="application/json")
    [listed] = info["metadata"]["communities"]
    assert listed["links"] == 1
    # And the following collection lists what A follows
    status, root = await a.copub.get(a.copub.urls.community_following(a.slug))
    status, page = await a.copub.get(a.copub.urls.community_following(a.slug) + "?page=1")
    assert (root["totalItems"], page["orderedItems"]) == (1, [b.actor])
    assert carrying(note["id"])(people.received)


async def test_second_hop_is_fetched_at_most_hourly(orgs: tuple[Org, Org, Org]) -> None:
    a, b, c = orgs
    await a.link(b)
    await b.link(c)
    await _document(a)
    refresher = a.copub.app[NETWORK_REFRESHER]
    await refresher.idle()

    async def fetched_at() -> datetime:
        async with a.copub.sessions() as session:
            row = await session.get(NetworkCacheRow, b.actor)
        assert row is not None
        return row.fetched_at

    fetched = await fetched_at()
    # When the page is opened again within the hour, nothing is fetched
    await _document(a)
    await refresher.idle()
    assert await fetched_at() == fetched
    # When the cache is older than an hour, the page answers with it at once ...
    old = fetched - timedelta(hours=2)
    async with a.copub.sessions.begin() as session:
        await session.execute(update(NetworkCacheRow).values(fetched_at=old))
    stale = await _document(a)
    [hop] = stale["second_hop"]
    assert hop["following"] == [c.actor]
    assert hop["fetched_at"] == old.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # ... and refreshes it in the background
    await refresher.idle()
    assert await fetched_at() > datetime.now(UTC) - timedelta(minutes=1)
