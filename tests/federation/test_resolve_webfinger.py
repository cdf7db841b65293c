"""WebFinger client: handles, the JRD self link, the OStatus subscribe template."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from federation.errors import BadRequest, FetchError
from federation.resolve import (
    actor_url_from_jrd,
    parse_handle,
    resolve_handle,
    subscribe_template,
    webfinger_url,
)
from tests.federation.fedkit import as2


@pytest.mark.parametrize(
    "handle",
    [
        "ana@social.example",
        "@ana@social.example",
        "acct:ana@social.example",
        " ACCT:ana@Social.Example ",
    ],
)
def test_handle_forms(handle: str) -> None:
    assert parse_handle(handle) == ("ana", "social.example")


def test_handle_with_port() -> None:
    assert parse_handle("ana@localhost:8080") == ("ana", "localhost:8080")


def test_international_host_names_become_punycode() -> None:
    assert parse_handle("ana@bücher.example") == ("ana", "xn--bcher-kva.example")


@pytest.mark.parametrize(
    "handle",
    ["ana", "@ana", "ana@", "a/b@host", "ana@ho st", "https://x/y", "ana\n@host"],
)
def test_bad_handles(handle: str) -> None:
    with pytest.raises(BadRequest):
        parse_handle(handle)


def test_webfinger_url() -> None:
    assert webfinger_url("@ana@social.example") == (
        "https://social.example/.well-known/webfinger?resource=acct:ana@social.example"
    )
    assert webfinger_url("ana@localhost:8080", scheme="http").startswith("http://localhost:8080/")


JRD = {
    "subject": "acct:ana@social.example",
    "links": [
        {
            "rel": "http://webfinger.net/rel/profile-page",
            "type": "text/html",
            "href": "https://social.example/@ana",
        },
        {
            "rel": "self",
            "type": "application/activity+json",
            "href": "https://social.example/users/ana",
        },
        {
            "rel": "http://ostatus.org/schema/1.0/subscribe",
            "template": "https://social.example/authorize_interaction?uri={uri}",
        },
    ],
}


def test_actor_url_from_jrd() -> None:
    assert actor_url_from_jrd(JRD) == "https://social.example/users/ana"
    ld = {
        "links": [
            {
                "rel": "self",
                "href": "https://x.example/a",
                "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            }
        ]
    }
    assert actor_url_from_jrd(ld) == "https://x.example/a"
    assert (
        actor_url_from_jrd({"links": [{"rel": "self", "type": "text/html", "href": "x"}]}) is None
    )
    assert actor_url_from_jrd({"links": "garbage"}) is None


def test_subscribe_template() -> None:
    assert subscribe_template(JRD) == "https://social.example/authorize_interaction?uri={uri}"
    assert subscribe_template({"links": []}) is None


async def test_resolve_handle_against_a_peer(peer_server: Any, make_client: Any) -> None:
    asked: list[str] = []

    async def webfinger(request: web.Request) -> web.Response:
        asked.append(request.query["resource"])
        host = request.host
        return as2(
            {
                "subject": request.query["resource"],
                "links": [
                    {
                        "rel": "self",
                        "type": "application/activity+json",
                        "href": f"http://{host}/users/ana",
                    }
                ],
            },
            content_type="application/jrd+json",
        )

    server = await peer_server({"GET /.well-known/webfinger": webfinger})
    client = await make_client(webfinger_scheme="http")
    host = f"127.0.0.1:{server.port}"
    assert await resolve_handle(client, f"@ana@{host}") == f"http://{host}/users/ana"
    assert asked == [f"acct:ana@{host}"]


async def test_resolve_handle_without_an_actor_link(peer_server: Any, make_client: Any) -> None:
    async def webfinger(request: web.Request) -> web.Response:
        return as2({"subject": "x", "links": []}, content_type="application/json")

    server = await peer_server({"GET /.well-known/webfinger": webfinger})
    client = await make_client()
    with pytest.raises(FetchError, match="names no ActivityPub actor"):
        await resolve_handle(client, f"ana@127.0.0.1:{server.port}", scheme="http")


async def test_webfinger_of_a_private_host_is_refused(make_client: Any) -> None:
    client = await make_client(allowed_networks=[], webfinger_scheme="http")
    with pytest.raises(FetchError):
        await resolve_handle(client, "ana@10.0.0.1")
