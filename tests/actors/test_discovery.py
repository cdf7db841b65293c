"""Discovery: WebFinger, host-meta, NodeInfo; and what unknown routes answer."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest
from aiohttp.test_utils import TestClient

from actors.web.keys import SESSIONS
from tests import factories

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "nodeinfo-2.1.schema.json").read_text("utf-8")
)
ACTOR = "https://cop.test/c/nightshift"
XRD = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"


@pytest.fixture
async def nightshift(client: TestClient[Any, Any]) -> Any:
    return await factories.create_community(client.app[SESSIONS])


async def webfinger(client: TestClient[Any, Any], resource: str | None, status: int) -> Any:
    params = {} if resource is None else {"resource": resource}
    response = await client.get("/.well-known/webfinger", params=params)
    assert response.status == status, await response.text()
    expected = "application/jrd+json" if status == 200 else "application/json"
    assert response.content_type == expected
    return await response.json(content_type=None)


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nightshift@cop.test",
        "nightshift@cop.test",
        "acct:nightshift@COP.TEST",
        "acct:%40nightshift%40cop.test",
        ACTOR,
    ],
)
async def test_webfinger(client: TestClient[Any, Any], nightshift: Any, resource: str) -> None:
    response = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status == 200
    assert response.content_type == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    jrd = await response.json(content_type=None)
    assert jrd["subject"] == "acct:nightshift@cop.test"
    assert ACTOR in jrd["aliases"]
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"] == {"rel": "self", "type": "application/activity+json", "href": ACTOR}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == ACTOR
    assert links["http://webfinger.net/rel/profile-page"]["type"] == "text/html"
    template = links["http://ostatus.org/schema/1.0/subscribe"]["template"]
    assert template == "https://cop.test/authorize_interaction?uri={uri}"


async def test_webfinger_missing_resource(client: TestClient[Any, Any]) -> None:
    body = await webfinger(client, None, 400)
    assert body == {"error": "missing 'resource' query parameter"}
    assert (await webfinger(client, "", 400))["error"]


@pytest.mark.parametrize(
    "resource",
    ["acct:nightshift", "acct:@cop.test", "acct:nightshift@", "acct:a b@cop.test", "acct:a@b/c"],
)
async def test_webfinger_malformed(client: TestClient[Any, Any], resource: str) -> None:
    body = await webfinger(client, resource, 400)
    assert "malformed resource" in body["error"]


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nightshift@other.example",
        "https://other.example/c/nightshift",
        "acct:nightshift@cop.test.evil",
    ],
)
async def test_webfinger_foreign_host(
    client: TestClient[Any, Any], nightshift: Any, resource: str
) -> None:
    body = await webfinger(client, resource, 400)
    assert re.search(r"is not (on )?this server", body["error"]), body


@pytest.mark.parametrize(
    "resource",
    ["acct:nobody@cop.test", "https://cop.test/c/nobody", "https://cop.test/c/nightshift/outbox"],
)
async def test_webfinger_unknown_community(
    client: TestClient[Any, Any], nightshift: Any, resource: str
) -> None:
    body = await webfinger(client, resource, 404)
    assert set(body) == {"error"}


async def test_host_meta(client: TestClient[Any, Any]) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status == 200
    assert response.content_type == "application/xrd+xml"
    root = ElementTree.fromstring(await response.text())  # noqa: S314 (our own document)
    assert root.tag == f"{XRD}XRD"
    [link] = root.findall(f"{XRD}Link")
    assert link.get("rel") == "lrdd"
    assert link.get("template") == "https://cop.test/.well-known/webfinger?resource={uri}"


async def test_nodeinfo_discovery(client: TestClient[Any, Any]) -> None:
    response = await client.get("/.well-known/nodeinfo")
    assert response.status == 200
    assert response.content_type == "application/json"
    links = {link["rel"]: link["href"] for link in (await response.json())["links"]}
    assert (
        links["http://nodeinfo.diaspora.software/ns/schema/2.1"] == "https://cop.test/nodeinfo/2.1"
    )
    assert links["https://www.w3.org/ns/activitystreams#Application"] == "https://cop.test/actor"


async def test_nodeinfo_validates_and_lists_communities(
    client: TestClient[Any, Any], nightshift: Any
) -> None:
    await factories.create_community(
        client.app[SESSIONS], "dayshift", name="Day Shift", closed=True
    )
    response = await client.get("/nodeinfo/2.1")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "http://nodeinfo.diaspora.software/ns/schema/2.1#" in response.headers["Content-Type"]
    body = await response.json(content_type=None)
    jsonschema.validate(body, SCHEMA)
    assert body["software"]["name"] == "copub"
    assert body["protocols"] == ["activitypub"]
    assert body["openRegistrations"] is False
    assert body["usage"]["users"]["total"] == 2
    communities = {c["handle"]: c for c in body["metadata"]["communities"]}
    assert set(communities) == {"nightshift@cop.test", "dayshift@cop.test"}
    assert communities["nightshift@cop.test"]["id"] == ACTOR
    assert communities["nightshift@cop.test"]["name"] == "Night Shift Nursing"
    assert communities["dayshift@cop.test"]["closed"] is True
    assert body["metadata"]["nodeName"] == "cop.test"


async def test_nodeinfo_without_communities_validates(client: TestClient[Any, Any]) -> None:
    body = await (await client.get("/nodeinfo/2.1")).json(content_type=None)
    jsonschema.validate(body, SCHEMA)
    assert body["usage"]["users"]["total"] == 0
    assert body["metadata"]["communities"] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), "2.0"),
        (("software", "name"), "CoPub"),
        (("protocols",), []),
        (("protocols",), ["smtp"]),
        (("openRegistrations",), "no"),
        (("usage", "users", "total"), -1),
        (("services", "inbound"), ["discourse"]),
    ],
)
async def test_nodeinfo_schema_catches_mistakes(
    client: TestClient[Any, Any], path: tuple[str, ...], value: Any
) -> None:
    """The schema is not vacuous: each rule rejects a wrong value."""
    body = copy.deepcopy(await (await client.get("/nodeinfo/2.1")).json(content_type=None))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, SCHEMA)


@pytest.mark.parametrize(
    "path", ["/nope", "/c/nightshift/nope", "/.well-known/nope", "/c/", "/nodeinfo/2.0"]
)
async def test_unknown_routes_are_404_json(
    client: TestClient[Any, Any], nightshift: Any, path: str
) -> None:
    response = await client.get(path, headers={"Accept": "application/activity+json"})
    assert response.status == 404
    assert response.content_type == "application/json"
    assert set(await response.json()) == {"error"}


async def test_missing_static_file_is_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/static/nope.png")
    assert response.status == 404


async def test_wrong_method_is_405_json(client: TestClient[Any, Any], nightshift: Any) -> None:
    response = await client.delete("/c/nightshift")
    assert response.status == 405
    assert response.content_type == "application/json"
    assert set(await response.json()) == {"error"}
