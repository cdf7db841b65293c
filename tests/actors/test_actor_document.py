"""The Group actor document, its collections, and the Application actor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from actors.store import queries
from actors.web.keys import SERVER_PUBLIC_KEY_PEM, SESSIONS
from tests import factories

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR = "https://cop.test/c/nightshift"
CONTEXT_URLS = {"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"}
# Terms the activitystreams and security/v1 contexts define, as used at the top level.
AS2_AND_SECURITY_TERMS = {
    "@context", "id", "type", "preferredUsername", "name", "summary", "url", "inbox", "outbox",
    "followers", "following", "endpoints", "icon", "image", "published", "attachment",
    "attributedTo", "publicKey",
}  # fmt: skip
COLLECTION_KEYS = (
    "outbox", "followers", "following", "featured", "attributedTo", "moderators",
    "stories", "practices", "events",
)  # fmt: skip


async def get_json(client: TestClient[Any, Any], path: str, accept: str = AS2) -> Any:
    response = await client.get(path, headers={"Accept": accept})
    assert response.status == 200, await response.text()
    assert response.content_type == AS2
    return await response.json(content_type=None)


def path_of(url: str) -> str:
    assert url.startswith(factories.BASE_URL + "/"), url
    return url[len(factories.BASE_URL) :]


def rsa_2048(pem: str) -> rsa.RSAPublicKey:
    key = load_pem_public_key(pem.encode("ascii"))
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    return key


@pytest.mark.parametrize(
    "accept",
    [AS2, LD, "application/activity+json, application/ld+json", "application/ld+json"],
)
async def test_group_document(client: TestClient[Any, Any], accept: str) -> None:
    community = await factories.create_community(
        client.app[SESSIONS],
        summary="Safe medication at night shifts.\n\nWe meet <monthly> & review cases.",
        profile_fields=(("Meets", "First Tuesday"), ("Rules", "Be <kind>")),
    )
    response = await client.get("/c/nightshift", headers={"Accept": accept})
    assert response.status == 200
    assert response.content_type == AS2
    assert "Accept" in response.headers.get("Vary", "")
    doc = await response.json(content_type=None)

    assert doc["id"] == ACTOR
    assert doc["type"] == "Group"
    assert doc["preferredUsername"] == "nightshift"
    assert doc["name"] == "Night Shift Nursing"
    assert doc["summary"] == (
        "<p>Safe medication at night shifts.</p><p>We meet &lt;monthly&gt; &amp; review cases.</p>"
    )
    assert doc["url"] == ACTOR
    assert doc["inbox"] == f"{ACTOR}/inbox"
    assert doc["outbox"] == f"{ACTOR}/outbox"
    assert doc["followers"] == f"{ACTOR}/followers"
    assert doc["following"] == f"{ACTOR}/following"
    assert doc["featured"] == f"{ACTOR}/featured"
    assert doc["attributedTo"] == doc["moderators"] == f"{ACTOR}/moderators"
    assert doc["endpoints"] == {"sharedInbox": "https://cop.test/inbox"}
    assert doc["publicKey"]["id"] == f"{ACTOR}#main-key"
    assert doc["publicKey"]["owner"] == ACTOR
    assert doc["publicKey"]["publicKeyPem"] == community.public_key_pem
    rsa_2048(doc["publicKey"]["publicKeyPem"])
    assert "PRIVATE" not in await response.text()
    for image in (doc["icon"], doc["image"]):
        assert image["type"] == "Image"
        assert image["url"].startswith("https://cop.test/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["published"])
    assert doc["published"] == community.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True
    assert doc["indexable"] is True
    assert doc["postingRestrictedToMods"] is False
    assert doc["attachment"] == [
        {"type": "PropertyValue", "name": "Meets", "value": "First Tuesday"},
        {"type": "PropertyValue", "name": "Rules", "value": "Be &lt;kind&gt;"},
    ]
    assert doc["webfinger"] == "nightshift@cop.test"


async def test_context_is_resolvable_offline(client: TestClient[Any, Any]) -> None:
    """Only the two contexts every peer caches, plus inline term definitions."""
    await factories.create_community(client.app[SESSIONS])
    doc = await get_json(client, "/c/nightshift")
    context = doc["@context"]
    assert isinstance(context, list)
    assert {c for c in context if isinstance(c, str)} == CONTEXT_URLS
    inline = [c for c in context if not isinstance(c, str)]
    assert inline
    assert all(isinstance(c, dict) for c in inline)
    terms = {k for c in inline for k in c}
    extensions = set(doc) - AS2_AND_SECURITY_TERMS
    assert "postingRestrictedToMods" in extensions
    assert extensions <= terms, f"not defined in @context: {extensions - terms}"


async def test_closed_community_approves_followers(client: TestClient[Any, Any]) -> None:
    await factories.create_community(client.app[SESSIONS], closed=True)
    doc = await get_json(client, "/c/nightshift")
    assert doc["manuallyApprovesFollowers"] is True


async def test_every_collection_is_served(client: TestClient[Any, Any]) -> None:
    await factories.create_community(client.app[SESSIONS])
    doc = await get_json(client, "/c/nightshift")
    for key in COLLECTION_KEYS:
        url = doc[key]
        root = await get_json(client, path_of(url))
        assert root["id"] == url
        assert root["type"] == "OrderedCollection"
        assert root["totalItems"] == 0
        assert root["first"] == f"{url}?page=1"
        page = await get_json(client, path_of(root["first"]))
        assert page["id"] == f"{url}?page=1"
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == url
        assert page["orderedItems"] == []
        assert "next" not in page


async def test_moderators_collection_lists_moderators(client: TestClient[Any, Any]) -> None:
    community = await factories.create_community(client.app[SESSIONS])
    mods = [f"https://social.example/users/m{i:02}" for i in range(21)]
    async with client.app[SESSIONS].begin() as session:
        for mod in mods:
            await queries.add_moderator(session, community.id, mod)
    root = await get_json(client, "/c/nightshift/moderators")
    assert root["totalItems"] == 21
    assert root["orderedItems"] == mods  # Lemmy reads them there, and nowhere else
    assert root["last"] == f"{ACTOR}/moderators?page=2"
    first = await get_json(client, "/c/nightshift/moderators?page=1")
    assert first["orderedItems"] == mods[:20]
    assert first["next"] == f"{ACTOR}/moderators?page=2"
    second = await get_json(client, "/c/nightshift/moderators?page=2")
    assert second["orderedItems"] == mods[20:]
    assert second["prev"] == f"{ACTOR}/moderators?page=1"


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "99999999"])
async def test_bad_page_is_400_json(client: TestClient[Any, Any], page: str) -> None:
    await factories.create_community(client.app[SESSIONS])
    response = await client.get(f"/c/nightshift/outbox?page={page}", headers={"Accept": AS2})
    assert response.status == 400
    assert response.content_type == "application/json"
    assert (await response.json())["error"] == "page must be a positive integer"


@pytest.mark.parametrize(
    "path", ["/c/nobody", "/c/nobody/outbox", "/c/nobody/followers", "/c/nobody/moderators"]
)
async def test_unknown_community_is_404_json(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path, headers={"Accept": AS2})
    assert response.status == 404
    assert response.content_type == "application/json"
    assert (await response.json()) == {"error": "no community named 'nobody'"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/c/nobody/o/x"),
        ("GET", "/c/nobody/o/x/replies"),
        ("GET", "/c/nobody/feed.atom"),
        ("GET", "/c/nobody/events.ics"),
        ("GET", "/c/nobody/network.json"),
        ("GET", "/.well-known/webfinger?resource=acct:nobody@cop.test"),
        ("POST", "/c/nobody/inbox"),
        ("POST", "/c/nobody/follow"),
    ],
)
async def test_every_route_of_an_unknown_community_says_so(
    client: TestClient[Any, Any], method: str, path: str
) -> None:
    response = await client.request(method, path, headers={"Accept": AS2})
    assert response.status == 404
    assert (await response.json()) == {"error": "no community named 'nobody'"}


async def test_application_actor(client: TestClient[Any, Any]) -> None:
    doc = await get_json(client, "/actor")
    assert doc["id"] == "https://cop.test/actor"
    assert doc["type"] == "Application"
    assert doc["inbox"] == "https://cop.test/inbox"
    assert doc["publicKey"]["id"] == "https://cop.test/actor#main-key"
    assert doc["publicKey"]["owner"] == "https://cop.test/actor"
    assert doc["publicKey"]["publicKeyPem"] == client.app[SERVER_PUBLIC_KEY_PEM]
    rsa_2048(doc["publicKey"]["publicKeyPem"])


async def test_moderation_actor_is_a_service_lemmy_takes_reports_from(
    client: TestClient[Any, Any],
) -> None:
    # Lemmy reads an actor as Person, Service or Organization, with these four fields
    doc = await get_json(client, "/moderation")
    assert (doc["id"], doc["type"]) == ("https://cop.test/moderation", "Service")
    assert doc["preferredUsername"] == "moderation"
    assert doc["inbox"] == "https://cop.test/inbox"
    assert doc["publicKey"]["id"] == "https://cop.test/moderation#main-key"
    assert doc["publicKey"]["publicKeyPem"] == client.app[SERVER_PUBLIC_KEY_PEM]
    outbox = await get_json(client, doc["outbox"].removeprefix("https://cop.test"))
    assert (outbox["type"], outbox["totalItems"]) == ("OrderedCollection", 0)


async def test_application_key_survives_restart(make_client: Any) -> None:
    first = await get_json(await make_client(), "/actor")
    second = await get_json(await make_client(), "/actor")
    assert first["publicKey"]["publicKeyPem"] == second["publicKey"]["publicKeyPem"]
