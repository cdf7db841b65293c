"""The address guard: refusals happen before any connection; only 127.0.0.1 is ever dialled."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import pytest
from aiohttp import web

from federation.errors import UnsafeAddress
from federation.keys import Signer, generate_rsa_keypair
from federation.ssrf import AddressPolicy, GuardedResolver, is_public_address
from tests.federation.fedkit import FakeDNS, as2


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "255.255.255.255",
        "224.0.0.1",
        "240.0.0.1",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:a00:1::1",
        "64:ff9b::a00:1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
    ],
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(ip_address(address))


def test_policy_exceptions_and_switch() -> None:
    policy = AddressPolicy.build(allowed_networks=["127.0.0.1/32"])
    assert policy.is_allowed(ip_address("127.0.0.1"))
    assert not policy.is_allowed(ip_address("127.0.0.2"))
    assert not policy.is_allowed(ip_address("::1"))
    assert AddressPolicy.build(allow_private=True).is_allowed(ip_address("10.0.0.1"))


async def test_resolver_drops_refused_addresses() -> None:
    dns = FakeDNS({"mixed.test": ["10.0.0.9", "127.0.0.1"], "inside.test": ["10.0.0.9", "::1"]})
    guard = GuardedResolver(AddressPolicy.build(allowed_networks=["127.0.0.1/32"]), dns)
    assert [r["host"] for r in await guard.resolve("mixed.test", 80)] == ["127.0.0.1"]
    with pytest.raises(UnsafeAddress, match=r"inside\.test"):
        await guard.resolve("inside.test", 80)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/actor",
        "http://10.0.0.1/actor",
        "http://[::1]:9/actor",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]:9/actor",
        "http://0.0.0.0:9/actor",
    ],
)
async def test_literal_addresses_are_refused_before_connecting(url: str, make_client: Any) -> None:
    client = await make_client(allowed_networks=[])
    with pytest.raises(UnsafeAddress, match="non-public address"):
        await client.fetch_object(url)


async def test_names_resolving_inside_are_refused(make_client: Any) -> None:
    dns = FakeDNS({"intranet.test": ["10.20.30.40"], "loop.test": ["127.0.0.1", "::1"]})
    client = await make_client(allowed_networks=[], resolver=dns)
    for url in ("http://intranet.test/x", "http://loop.test:9/x"):
        with pytest.raises(UnsafeAddress, match="resolves to no public address"):
            await client.fetch_object(url)
    assert dns.asked == ["intranet.test", "loop.test"]


async def test_an_allowed_name_is_dialled_on_its_allowed_address_only(
    peer_server: Any, make_client: Any
) -> None:
    """peer.test resolves to 10.x and 127.0.0.1: only 127.0.0.1 (allowed) may be used."""

    async def actor(request: web.Request) -> web.Response:
        return as2({"id": f"http://peer.test:{request.url.port}/actor", "type": "Group"})

    server = await peer_server({"GET /actor": actor})
    dns = FakeDNS({"peer.test": ["10.9.9.9", "127.0.0.1"]})
    client = await make_client(resolver=dns)
    document = await client.fetch_object(f"http://peer.test:{server.port}/actor")
    assert document["type"] == "Group"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:9/x",
        "http://10.0.0.1/x",
        "http://[::1]:9/x",
        "http://169.254.169.254/latest/meta-data",
        "http://intranet.test/x",
    ],
)
async def test_redirects_to_inside_addresses_are_refused(
    target: str, peer_server: Any, make_client: Any
) -> None:
    """An allowed peer (127.0.0.1) redirecting inside: every hop is checked again."""
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append(request.path)
        raise web.HTTPFound(target)

    server = await peer_server({"GET /actor": redirect})
    dns = FakeDNS({"intranet.test": ["10.1.1.1"]})
    client = await make_client(resolver=dns)
    with pytest.raises(UnsafeAddress):
        await client.fetch_object(str(server.make_url("/actor")))
    assert hits == ["/actor"]


async def test_allow_private_addresses_switches_the_guard_off(
    peer_server: Any, make_client: Any
) -> None:
    async def actor(request: web.Request) -> web.Response:
        return as2({"id": str(request.url), "type": "Person"})

    server = await peer_server({"GET /actor": actor})
    client = await make_client(allowed_networks=[], allow_private_addresses=True)
    assert (await client.fetch_object(str(server.make_url("/actor"))))["type"] == "Person"


async def test_unsafe_address_on_post_is_raised_not_returned(make_client: Any) -> None:
    client = await make_client(allowed_networks=[])
    signer = Signer("https://copub.example/c/x#main-key", generate_rsa_keypair(1024)[0])
    with pytest.raises(UnsafeAddress):
        await client.post_activity("http://10.0.0.1/inbox", b"{}", signer)
