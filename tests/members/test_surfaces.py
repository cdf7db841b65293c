"""Members-only communities: every surface, for every kind of viewer.

The table: each route of the application (enumerated from its router, so a new route
without a row fails ``test_every_route_has_a_row``) is a community route, gated by
actors/web/members_gate.py, or a server-wide one whose answer must not carry the
community's content. Each viewer asks each community route for HTML, ActivityStreams JSON
and anything; an approved member, a server hosting one and a coordinator get the answer,
everybody else the same 404 as a thing that does not exist, and nothing of the content.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import followers, founding, publishing, signing
from actors.content import StoryDraft
from actors.events import EventDraft
from actors.members import Visibility
from actors.settings import Settings
from actors.store import queries, social
from actors.store.models import ActivityRow, RemoteActorRow, RemoteKeyRow
from actors.store.states import FollowerState
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from federation.clock import utcnow
from federation.httpsig import sign_request
from federation.keys import Signer
from tests.conftest import ClientFactory
from tests.console.helpers import console_settings, coordinator

SECRET = "Medication incident on ward 7"
PUBLIC_IRI = "https://www.w3.org/ns/activitystreams#Public"
BROWSER = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
AS2 = "application/activity+json"
ACCEPTS = (BROWSER, AS2, "*/*")

# community routes open to everyone (the actor document, its inbox, the follow form; the
# authoring API checks its own tokens) and those not offered at all (digests)
OPEN = {"/c/{slug}/inbox", "/c/{slug}/follow"}
NOT_OFFERED = {
    "/c/{slug}/digest",
    "/c/{slug}/digest/confirm",
    "/c/{slug}/digest/unsubscribe",
    "/c/{slug}/digest.atom",
}
# server-wide routes: asked by an outsider, their answers must not carry the content
SERVER_WIDE = {
    "/",
    "/healthz",
    "/readyz",
    "/.well-known/webfinger",
    "/.well-known/host-meta",
    "/.well-known/nodeinfo",
    "/nodeinfo/2.1",
    "/actor",
    "/moderation",
    "/moderation/outbox",
    "/inbox",
    "/authorize_interaction",
    "/static",
}
# the sample names nothing stored here: a member gets the handler's own 404
NO_SAMPLE = {"/c/{slug}/thread"}
QUERIES = {
    "/.well-known/webfinger": {"resource": "acct:ward@cop.test"},
    "/authorize_interaction": {"uri": "https://social.example/users/alice"},
}


@dataclass(frozen=True)
class Viewer:
    """Who asks: a signing actor (``signer``: its id) or a browser (``cookies``)."""

    name: str
    sees: bool
    signer: str | None = None
    cookies: str = ""


ASK = Callable[[Viewer, str, str], Awaitable[tuple[int, str, dict[str, str]]]]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return console_settings(database_url)


@dataclass
class World:
    client: TestClient[Any, Any]
    samples: dict[str, str]
    viewers: list[Viewer]
    ask: ASK


async def _remote(
    session: AsyncSession, actor_id: str, *, kind: str = "Person"
) -> tuple[RemoteActorRow, Signer]:
    private_pem, public_pem = signing.new_key_pair()
    host = actor_id.split("/")[2]
    row = RemoteActorRow(
        ap_id=actor_id,
        inbox=actor_id + "/inbox",
        shared_inbox=f"https://{host}/inbox",
        actor_type=kind,
        ap_json={},
    )
    session.add(row)
    session.add(
        RemoteKeyRow(key_id=actor_id + "#main-key", owner=actor_id, public_key_pem=public_pem)
    )
    await session.flush()
    return row, Signer(actor_id + "#main-key", private_pem)


@pytest.fixture
async def world(make_client: ClientFactory, settings: Settings) -> World:
    client = await make_client(settings)
    sessions: async_sessionmaker[AsyncSession] = client.app[SESSIONS]
    urls = client.app[URLS]
    async with sessions.begin() as session:
        ward = await founding.create_community(
            session, slug="ward", name="Ward nurses", summary="Incident reviews.", members_only=True
        )
        signers: dict[str, Signer] = {}
        for name, actor_id, state in (
            ("member", "https://member.example/users/alice", "accepted"),
            ("pending", "https://pending.example/users/pat", "pending"),
            ("rejected", "https://rejected.example/users/rex", None),
            ("removed", "https://removed.example/users/rem", "removed"),
            ("server with a member", "https://member.example/actor", None),
            ("server without a member", "https://other.example/actor", None),
        ):
            row, signers[name] = await _remote(session, actor_id)
            if state is not None:
                await social.record_follow(session, ward.id, row, actor_id + "/follow", closed=True)
                follower = await social.get_follower(session, ward.id, actor_id)
                assert follower is not None
                if state in ("accepted", "removed"):
                    follower.state = FollowerState.ACCEPTED
                if state == "removed":  # by a coordinator: Reject of their Follow
                    await followers.remove(session, urls, ward, actor_id)
        story = await publishing.publish_story(
            session, urls, ward, StoryDraft(title=SECRET, markdown="What we learned. #incident")
        )
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        event = await publishing.publish_event(
            session, urls, ward,
            EventDraft(title=SECRET + " review", markdown="Bring cases.", start=start,
                       timezone="Europe/Berlin", end=start + timedelta(hours=1)),
        )  # fmt: skip
    async with sessions() as session:
        activity = (
            await session.scalars(
                select(ActivityRow.ap_id).where(ActivityRow.object_ap_id == story.ap_id).limit(1)
            )
        ).one()
    coord = await coordinator(client, settings, sessions, ward.id)
    cookies = "; ".join(f"{k}={v}" for k, v in coord.cookies.items())
    viewers = [
        Viewer("outsider", sees=False),
        Viewer("pending", sees=False, signer="pending"),
        Viewer("rejected", sees=False, signer="rejected"),
        Viewer("removed", sees=False, signer="removed"),
        Viewer("server without a member", sees=False, signer="server without a member"),
        Viewer("approved member", sees=True, signer="member"),
        Viewer("server with a member", sees=True, signer="server with a member"),
        Viewer("coordinator", sees=True, cookies=cookies),
    ]

    async def ask(viewer: Viewer, path: str, accept: str) -> tuple[int, str, dict[str, str]]:
        headers = {"Accept": accept}
        if viewer.cookies:
            headers["Cookie"] = viewer.cookies
        if viewer.signer is not None:
            headers = sign_request(
                "GET", urls.absolute(path), headers, None, signers[viewer.signer]
            )
        async with client.get(path, headers=headers, allow_redirects=False) as response:
            client.session.cookie_jar.clear()
            return response.status, await response.text(), dict(response.headers)

    samples = {
        "slug": "ward",
        "oid": story.ap_id.rstrip("/").rsplit("/", 1)[1],
        "aid": activity.rstrip("/").rsplit("/", 1)[1],
        "tag": "incident",
        "filename": "icon.png",
        "event": event.ap_id.rstrip("/").rsplit("/", 1)[1],
    }
    return World(client, samples, viewers, ask)


def _routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is not None and route.method != "HEAD":
            found.add((route.method, resource.canonical))
    return found


def _path(canonical: str, samples: dict[str, str]) -> str:
    path = canonical
    for name, value in samples.items():
        path = path.replace("{" + name + "}", value)
    if canonical == "/c/{slug}/o/{oid}/event.ics":
        path = canonical.replace("{slug}", "ward").replace("{oid}", samples["event"])
    if canonical == "/c/{slug}/o/{oid}/participants":
        path = canonical.replace("{slug}", "ward").replace("{oid}", samples["event"])
    if canonical == "/c/{slug}/thread":
        path += "?post=https%3A%2F%2Fmember.example%2Fnotes%2F1"
    return path


def _community_routes(app: web.Application) -> list[str]:
    return sorted(
        c for m, c in _routes(app) if m == "GET" and c.startswith("/c/{slug}") and c not in OPEN
    )


async def test_every_route_has_a_row(world: World) -> None:
    """A route that is neither a community's (gated), nor the console's (coordinators),
    nor a server-wide one checked below, needs a row in this table."""
    unknown = {
        (m, c)
        for m, c in _routes(world.client.app)
        if not c.startswith(("/c/{slug}", "/console", "/adapters/")) and c not in SERVER_WIDE
    }
    assert not unknown, f"classify these routes for members-only communities: {unknown}"


async def test_who_sees_each_community_route(world: World) -> None:
    """Every GET route of the community, for every viewer and Accept: members, servers
    hosting one and coordinators get it; the others the 404 of a missing thing."""
    missing_status, missing_body, _ = await world.ask(
        world.viewers[0], "/c/ward/o/no-such-item", AS2
    )
    assert missing_status == 404
    failures = []
    for canonical in _community_routes(world.client.app):
        path = _path(canonical, world.samples)
        for viewer in world.viewers:
            for accept in ACCEPTS:
                status, body, headers = await world.ask(viewer, path, accept)
                what = f"{viewer.name} GET {path} ({accept.split(',')[0]})"
                if canonical in NOT_OFFERED:
                    if status != 404:
                        failures.append(f"{what}: {status}, digests are not offered")
                    continue
                if canonical == "/c/{slug}" and not viewer.sees:
                    # the actor document (or a page saying it is members-only): no content
                    if status != 200 or SECRET in body:
                        failures.append(f"{what}: {status}, content shown")
                    continue
                answer = (status, body, headers)
                failures += _gated(what, viewer, answer, missing_body if accept == AS2 else None,
                                   sample=canonical not in NO_SAMPLE)  # fmt: skip
    assert not failures, "\n".join(failures)


def _gated(
    what: str,
    viewer: Viewer,
    answer: tuple[int, str, dict[str, str]],
    missing_body: str | None,
    *,
    sample: bool = True,
) -> list[str]:
    """What is wrong with a gated answer: one who may see it gets it (for them alone,
    never addressed to the Public), anyone else the 404 of a missing thing."""
    status, body, headers = answer
    failures = []
    if viewer.sees:
        if status == 404 and sample:
            failures.append(f"{what}: 404 for one who may see it")
        if PUBLIC_IRI in body:
            failures.append(f"{what}: addressed to the Public")
        if status == 200 and "ETag" in headers:
            failures.append(f"{what}: a cacheable ETag")
    elif status != 404 or SECRET in body:
        failures.append(f"{what}: {status}, not a 404")
    elif missing_body is not None and body != missing_body:
        failures.append(f"{what}: its 404 differs from a missing thing's")
    return failures


async def test_the_actor_document_lists_no_content(world: World) -> None:
    outsider = world.viewers[0]
    status, body, _ = await world.ask(outsider, "/c/ward", AS2)
    assert status == 200
    assert SECRET not in body
    assert "totalItems" not in body
    document = json.loads(body)
    assert document["indexable"] is False
    # copub's own mark, for a linked community (manuallyApprovesFollowers is a closed one's too)
    assert document["membersOnly"] is True
    assert document["@context"][-1]["membersOnly"] == "copub:membersOnly"
    status, body, _ = await world.ask(outsider, "/c/ward", BROWSER)
    assert status == 200
    assert "members-only" in body
    assert SECRET not in body


async def test_a_conditional_get_leaks_nothing(world: World) -> None:
    """An outsider with the member's validators gets the 404, not a 304."""
    member = next(v for v in world.viewers if v.name == "approved member")
    path = "/c/ward/outbox"
    _status, _body, headers = await world.ask(member, path, AS2)
    assert "ETag" not in headers
    async with world.client.get(
        path, headers={"Accept": AS2, "If-None-Match": "*"}, allow_redirects=False
    ) as response:
        assert response.status == 404


async def test_server_wide_surfaces_carry_no_content(world: World) -> None:
    outsider = world.viewers[0]
    for canonical in sorted(SERVER_WIDE - {"/static", "/inbox"}):
        path = canonical
        query = QUERIES.get(canonical)
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        for accept in ACCEPTS:
            _status, body, _ = await world.ask(outsider, path, accept)
            assert SECRET not in body, (canonical, accept)


async def test_nodeinfo_counts_no_members_only_item(world: World) -> None:
    status, body, _ = await world.ask(world.viewers[0], "/nodeinfo/2.1", AS2)
    assert status == 200
    assert json.loads(body)["usage"]["localPosts"] == 0


async def test_a_removed_member_loses_access_at_once(world: World) -> None:
    """Their key stays cached and their server keeps asking: the next GET is a 404."""
    member = next(v for v in world.viewers if v.name == "approved member")
    path = _path("/c/{slug}/o/{oid}", world.samples)
    assert (await world.ask(member, path, AS2))[0] == 200
    sessions: async_sessionmaker[AsyncSession] = world.client.app[SESSIONS]
    async with sessions.begin() as session:
        ward = await queries.get_community(session, "ward")
        assert ward is not None
        await social.remove_follower(session, ward.id, "https://member.example/users/alice")
    status, body, _ = await world.ask(member, path, AS2)
    assert status == 404
    assert SECRET not in body
    server = next(v for v in world.viewers if v.name == "server with a member")
    assert (await world.ask(server, path, AS2))[0] == 404  # it hosts no member now


async def test_a_community_made_members_only_is_gated_at_once(world: World) -> None:
    """Its public pages were cached (the directory, the page cache, an ETag): the next
    outsider's GET, conditional or not, is a 404 all the same."""
    sessions: async_sessionmaker[AsyncSession] = world.client.app[SESSIONS]
    urls = world.client.app[URLS]
    async with sessions.begin() as session:
        open_ = await founding.create_community(session, slug="open", name="Open")
        await publishing.publish_story(
            session, urls, open_, StoryDraft(title=SECRET, markdown="Before the switch.")
        )
    outsider = world.viewers[0]
    status, body, headers = await world.ask(outsider, "/c/open/stories", BROWSER)
    assert status == 200
    assert SECRET in body
    etag = headers.get("ETag", "*")
    async with sessions.begin() as session:
        await founding.update_community(
            session, urls, open_, name="Open", summary="", closed=False, profile_fields=(),
            now=utcnow(), visibility=Visibility.MEMBERS,
        )  # fmt: skip
    for extra in ({}, {"If-None-Match": etag}):
        async with world.client.get(
            "/c/open/stories", headers={"Accept": BROWSER, **extra}
        ) as response:
            assert response.status == 404
            assert SECRET not in await response.text()
    # and its actor document says so at once (a linked community caches it for a day)
    status, body, _ = await world.ask(outsider, "/c/open", AS2)
    assert status == 200
    assert json.loads(body).get("membersOnly") is True


async def test_posts_to_a_members_only_community_route_are_refused_alike(world: World) -> None:
    """The forms under a community (a reply, a digest subscription) answer an outsider
    404; only its inbox, the follow form and the authoring API (its own tokens) are open."""
    open_posts = OPEN | {"/c/{slug}/outbox"}
    checked = []
    for method, canonical in sorted(_routes(world.client.app)):
        if method != "POST" or not canonical.startswith("/c/{slug}") or canonical in open_posts:
            continue
        path = _path(canonical, world.samples).split("?", 1)[0]
        async with world.client.post(path, data={"x": "y"}, allow_redirects=False) as response:
            assert response.status == 404, (canonical, response.status)
            assert SECRET not in await response.text()
        checked.append(canonical)
    assert "/c/{slug}/digest" in checked


# the routes that name one item: after the switch to public, an earlier item's stay gated
ITEM_ROUTES = {
    "/c/{slug}/o/{oid}",
    "/c/{slug}/o/{oid}/replies",
    "/c/{slug}/o/{oid}/context",
    "/c/{slug}/o/{oid}/participants",
    "/c/{slug}/o/{oid}/event.ics",
}


@pytest.mark.parametrize("after", [Visibility.PUBLIC, Visibility.CLOSED])
async def test_earlier_items_stay_members_only_after_the_switch(
    world: World, after: Visibility
) -> None:
    """The community goes public (or closed): each earlier item answers as before (members,
    their servers and coordinators get it, everyone else the 404 of a missing thing); no
    other route (lists, feeds, tags, collections, counts) shows it to anyone; what it
    publishes afterwards is public."""
    sessions: async_sessionmaker[AsyncSession] = world.client.app[SESSIONS]
    urls = world.client.app[URLS]
    async with sessions.begin() as session:
        ward = await queries.get_community(session, "ward")
        assert ward is not None
        ward = await founding.update_community(
            session, urls, ward, name=ward.name, summary=ward.summary, closed=False,
            profile_fields=(), now=utcnow(), visibility=after,
        )  # fmt: skip
        later = await publishing.publish_story(
            session, urls, ward, StoryDraft(title="Open house", markdown="All welcome. #incident")
        )
    await world.client.app[DIRECTORY].at_version("ward", 2**62)  # its cached row, dropped
    failures = []
    for canonical in _community_routes(world.client.app):
        path = _path(canonical, world.samples)
        missing = canonical.replace("{slug}", "ward").replace("{oid}", "no-such-item")
        _status, missing_body, _ = await world.ask(world.viewers[0], missing, AS2)
        for viewer in world.viewers:
            for accept in ACCEPTS:
                status, body, headers = await world.ask(viewer, path, accept)
                what = f"{viewer.name} GET {path} ({accept.split(',')[0]})"
                if canonical in ITEM_ROUTES:
                    answer = (status, body, headers)
                    failures += _gated(
                        what, viewer, answer, missing_body if accept == AS2 else None
                    )
                elif SECRET in body:
                    failures.append(f"{what}: {status}, an earlier item shown")
    assert not failures, "\n".join(failures)
    outsider = world.viewers[0]
    later_path = "/c/ward/o/" + later.ap_id.rstrip("/").rsplit("/", 1)[1]
    status, body, _ = await world.ask(outsider, later_path, AS2)
    assert status == 200
    assert PUBLIC_IRI in body
    for path in ("/c/ward/stories", "/c/ward/feed.atom", "/c/ward/feed.rss"):
        status, body, _ = await world.ask(outsider, path, BROWSER)
        assert status == 200, path
        assert "Open house" in body, path
        assert SECRET not in body, path
    status, body, _ = await world.ask(outsider, "/c/ward/outbox?page=1", AS2)
    assert status == 200
    assert later.ap_id in body
    assert SECRET not in body
    status, body, _ = await world.ask(outsider, "/nodeinfo/2.1", AS2)
    assert json.loads(body)["usage"]["localPosts"] == 1  # the later story alone
    # one who follows once it is public is approved at once, and no member of those items
    async with sessions.begin() as session:
        newcomer_id = "https://newcomer.example/users/nel"
        row, newcomer = await _remote(session, newcomer_id)
        await social.record_follow(session, ward.id, row, newcomer_id + "/follow", closed=False)
        follower = await social.get_follower(session, ward.id, newcomer_id)
        assert follower is not None
        follower.state = FollowerState.ACCEPTED
    for path in (_path("/c/{slug}/o/{oid}", world.samples), later_path):
        headers = sign_request("GET", urls.absolute(path), {"Accept": AS2}, None, newcomer)
        async with world.client.get(path, headers=headers) as response:
            assert response.status == (200 if path == later_path else 404), path
            assert SECRET not in await response.text()
