"""The Network page, against a second copub server on loopback: a handle is resolved first
(WebFinger and the actor, as ``copub link`` resolves it) and the Group found is shown
before anything is written; the confirmation links (Follow, accepted by the other
server), the policy changes, unlink sends Undo; incoming links show on the other side.
Bad input (an unknown handle, a private address when those are refused) comes back with
its error next to the field and nothing written; another community's coordinator gets 403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from actors.store.models import ActivityRow
from actors.store.models_links import LinkRow
from actors.web.keys import SESSIONS
from tests import factories
from tests.console.helpers import FAST_HASHING, audit_actions, coordinator
from tests.console.servers import Server, running
from tests.flows.copub import Copub, wait_until
from tests.links.conftest import database_urls
from tests.links.network import Org

__all__ = ["database_urls"]

NETWORK = "/console/c/hospital/network"


@pytest.fixture
async def servers(database_urls: list[str], tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    """``hospital`` on one copub (its console in use), ``clinic`` on another."""
    async with running(database_urls, tmp_path, ("hospital", "clinic")) as (home, other):
        yield home, other


async def written(copub: Copub) -> tuple[int, int]:
    """(links, activities) stored."""
    return (
        await copub.count(select(func.count()).select_from(LinkRow)),
        await copub.count(select(func.count()).select_from(ActivityRow)),
    )


async def test_link_shows_the_group_first_then_links_changes_policy_and_unlinks(
    servers: tuple[Server, Server],
) -> None:
    (home, home_server), (other, other_server) = [(s.copub, s) for s in servers]
    hospital, clinic = Org(home, "hospital"), Org(other, "clinic")
    alice = await home_server.coordinator("hospital")
    await other.cli("community", "edit", "clinic", "--summary", "Nurses who share practice.")
    page = await alice.get(NETWORK)
    assert page.status == 200
    assert "No links yet." in page.text
    before = await written(home)
    # step one: the Group found, nothing written
    page = await alice.post(NETWORK + "/find", {"target": clinic.handle})
    assert page.status == 200, page.text
    assert "Link Hospital to Clinic?" in page.text
    assert clinic.handle in page.text
    assert "<p>Nurses who share practice.</p>" in page.text
    assert other.base_url.split("://")[1] in page.text  # the server
    assert f'name="actor" value="{clinic.actor}"' in page.text
    assert await written(home) == before
    # step two: confirmed; the Follow goes out and the other server accepts it
    page = await alice.post(NETWORK + "/link", {"actor": clinic.actor, "policy": "announce"})
    assert page.status == 200
    assert "Link asked for" in page.text
    await hospital.wait_link(clinic, "accepted")
    follows = await home.sent("Follow")
    assert [(f["actor"], f["object"]) for f in follows] == [(hospital.actor, clinic.actor)]
    page = await alice.get(NETWORK)
    assert "Unlink Clinic" in page.text
    assert '<span class="badge">linked</span>' in page.text
    assert 'value="announce" checked' in page.text
    # the other side sees an incoming link
    bob = await other_server.coordinator("clinic", "bob")
    page = await bob.get("/console/c/clinic/network")
    assert "Communities that follow this one" in page.text
    assert "Hospital</a>" in page.text
    assert '<span class="badge">following</span>' in page.text
    # the policy, as copub link-policy sets it
    page = await alice.post(NETWORK + "/policy", {"actor": clinic.actor, "policy": "none"})
    assert page.status == 200
    assert "Policy changed." in page.text
    assert "out\taccepted\tnone" in await home.cli("links", "hospital")
    # unlink: Undo of the very Follow; the other server drops the follower
    page = await alice.post(NETWORK + "/unlink", {"actor": clinic.actor})
    assert page.status == 200
    assert "Unlinked." in page.text
    assert await hospital.link_state(clinic) is None
    [undo] = await home.sent("Undo")
    assert undo["object"]["id"] == follows[0]["id"]

    async def dropped() -> bool:
        return not await other.has_follower(hospital.actor)

    await wait_until(dropped, 20, "the other server drops the follower")
    actions = [action for who, action in await audit_actions(home.sessions) if who == "alice"]
    assert [a for a in actions if a.startswith("link.")] == [
        "link.create",
        "link.policy",
        "link.remove",
    ]


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("@nobody@{host}", "No community @nobody@{host} was found: its server answered 404."),
        ("@hospital@{home}", "A community cannot link to itself."),
        ("not a handle", "Give a community&#39;s handle (@name@server.example) or its URL"),
        ("{base}/c/nobody", "No community {base}/c/nobody was found: its server answered 404."),
    ],
)
async def test_a_community_not_found_comes_back_with_its_error(
    servers: tuple[Server, Server], target: str, problem: str
) -> None:
    home, other = servers[0].copub, servers[1].copub
    hosts = {
        "host": other.base_url.split("://")[1],
        "home": home.base_url.split("://")[1],
        "base": other.base_url,
    }
    target, problem = target.format(**hosts), problem.format(**hosts)
    alice = await servers[0].coordinator("hospital")
    await alice.get(NETWORK)
    before = await written(home)
    page = await alice.post(NETWORK + "/find", {"target": target, "policy": "announce"})
    assert page.status == 400
    assert 'id="f-target-error"' in page.text
    assert problem in page.text
    assert f'value="{target}"' in page.text.replace("&#39;", "'")
    assert await written(home) == before


async def test_a_private_address_is_refused_when_private_addresses_are(
    make_client: Any, database_url: str
) -> None:
    settings = factories.make_settings(
        database_url, console=FAST_HASHING, federation={"allow_private_addresses": False}
    )
    client = await make_client(settings)
    hospital = await factories.create_community(client.app[SESSIONS], "hospital")
    alice = await coordinator(client, settings, client.app[SESSIONS], hospital.id)
    await alice.get(NETWORK)
    for target in ("@clinic@127.0.0.1:8080", "http://127.0.0.1:8080/c/clinic",
                   "@clinic@localhost:8080", "http://[::1]/c/clinic"):  # fmt: skip
        page = await alice.post(NETWORK + "/find", {"target": target})
        assert page.status == 400, target
        assert "is on a private or local address" in page.text
    async with client.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(LinkRow)) == 0
        assert await session.scalar(select(func.count()).select_from(ActivityRow)) == 0


async def test_another_communitys_coordinator_gets_403_and_nothing_changes(
    servers: tuple[Server, Server],
) -> None:
    home, other = servers[0].copub, servers[1].copub
    hospital, clinic = Org(home, "hospital"), Org(other, "clinic")
    await hospital.link(clinic)
    await home.create_community("college")
    bob = await servers[0].coordinator("college", "bob")
    page = await bob.get(NETWORK)
    assert page.status == 403
    assert "Clinic" not in page.text
    await bob.get("/console/c/college/network")  # his own page, for a form token
    before = await written(home)
    for path, form in [
        ("/find", {"target": clinic.handle}),
        ("/link", {"actor": clinic.actor, "policy": "none"}),
        ("/policy", {"actor": clinic.actor, "policy": "none"}),
        ("/unlink", {"actor": clinic.actor}),
    ]:
        page = await bob.post(NETWORK + path, form)
        assert page.status == 403, path
        assert "Clinic" not in page.text
    assert await written(home) == before
    assert await hospital.link_state(clinic) == "accepted"
    assert "out\taccepted\tannounce" in await home.cli("links", "hospital")
