"""Removing a member of a members-only community.

A coordinator removes an approved follower (the console's People page, or ``copub
followers remove``): the follower row goes, a ``Reject`` of their accepted Follow goes to
their own inbox (what Mastodon sends for "remove from followers": its server unfollows),
and from the next request neither they nor their server fetch anything; nothing more is
delivered to them.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import founding, publishing, signing
from actors.content import StoryDraft
from actors.settings import Settings
from actors.store import social
from actors.store.models import (
    ActivityRow,
    DeliveryRow,
    FollowerRow,
    RemoteActorRow,
    RemoteKeyRow,
)
from actors.store.states import FollowerState
from actors.web.keys import SESSIONS, URLS
from federation.httpsig import sign_request
from federation.keys import Signer
from tests.conftest import ClientFactory
from tests.console.helpers import console_settings, coordinator

Sessions = async_sessionmaker[AsyncSession]
SECRET = "Night shift handover errors"
AS2 = "application/activity+json"
ALICE = "https://member.example/users/alice"
BOB = "https://other.example/users/bob"  # a member on another server
PEOPLE = "/console/c/ward/people"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return console_settings(database_url)


def _key(session: AsyncSession, actor_id: str) -> Signer:
    private_pem, public_pem = signing.new_key_pair()
    session.add(
        RemoteKeyRow(key_id=actor_id + "#main-key", owner=actor_id, public_key_pem=public_pem)
    )
    return Signer(actor_id + "#main-key", private_pem)


async def _member(session: AsyncSession, community_id: int, actor_id: str) -> Signer:
    signer = _key(session, actor_id)
    row = RemoteActorRow(
        ap_id=actor_id,
        inbox=actor_id + "/inbox",
        shared_inbox=f"https://{actor_id.split('/')[2]}/inbox",
        name=actor_id.rsplit("/", 1)[1].title(),
        ap_json={},
    )
    session.add(row)
    await session.flush()
    await social.record_follow(session, community_id, row, actor_id + "/follow", closed=True)
    follower = await social.get_follower(session, community_id, actor_id)
    assert follower is not None
    follower.state = FollowerState.ACCEPTED
    return signer


async def _fetch(client: TestClient[Any, Any], path: str, signer: Signer) -> tuple[int, str]:
    headers = sign_request("GET", client.app[URLS].absolute(path), {"Accept": AS2}, None, signer)
    async with client.get(path, headers=headers) as response:
        return response.status, await response.text()


async def _queued(db: Sessions) -> list[tuple[dict[str, Any], list[str]]]:
    async with db() as session:
        found = []
        for row in await session.scalars(select(ActivityRow).order_by(ActivityRow.id)):
            inboxes = await session.scalars(
                select(DeliveryRow.inbox).where(DeliveryRow.activity_id == row.id)
            )
            found.append((row.ap_json, sorted(inboxes)))
        return found


async def test_a_removed_member_gets_a_reject_and_loses_access_at_once(
    make_client: ClientFactory, settings: Settings
) -> None:
    client = await make_client(settings)
    db: Sessions = client.app[SESSIONS]
    urls = client.app[URLS]
    async with db.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward", members_only=True)
        alice = await _member(session, ward.id, ALICE)
        await _member(session, ward.id, BOB)
        server = _key(session, "https://member.example/actor")  # alice's server
        story = await publishing.publish_story(
            session, urls, ward, StoryDraft(title=SECRET, markdown="What we learned.")
        )
    path = "/c/ward/o/" + story.ap_id.rstrip("/").rsplit("/", 1)[1]
    assert (await _fetch(client, path, alice))[0] == 200
    assert (await _fetch(client, path, server))[0] == 200
    before = len(await _queued(db))

    coord = await coordinator(client, settings, db, ward.id)
    page = await coord.get(PEOPLE)
    assert "Remove Alice" in page.text
    page = await coord.post(PEOPLE + "/followers/remove", {"actor": ALICE})
    assert page.status == 200
    assert "Removed" in page.text
    assert "Remove Alice" not in page.text

    # the Reject of the very Follow that was accepted, to alice's own inbox alone
    [(reject, inboxes)] = (await _queued(db))[before:]
    assert inboxes == [ALICE + "/inbox"]
    assert reject["type"] == "Reject"
    assert reject["actor"] == urls.community("ward")
    assert reject["to"] == [ALICE]
    assert reject["object"] == {
        "id": ALICE + "/follow",
        "type": "Follow",
        "actor": ALICE,
        "object": urls.community("ward"),
    }
    # at once: her next fetch, with the key still cached, finds nothing
    status, body = await _fetch(client, path, alice)
    assert status == 404
    assert SECRET not in body
    assert (await _fetch(client, path, server))[0] == 404

    # asked again (another tab): refused, nothing more sent
    page = await coord.post(PEOPLE + "/followers/remove", {"actor": ALICE})
    assert page.status == 409
    assert len(await _queued(db)) == before + 1

    # nor her server (it hosts no member now); what the community publishes next goes
    # to bob alone
    async with db.begin() as session:
        await publishing.publish_story(session, urls, ward, StoryDraft(title="Next", markdown="x"))
    [(_create, inboxes)] = (await _queued(db))[before + 1 :]
    assert inboxes == ["https://other.example/inbox"]
    async with db() as session:
        followers = await session.scalars(
            select(FollowerRow.actor_id).where(FollowerRow.community_id == ward.id)
        )
        assert list(followers) == [BOB]


async def test_only_an_approved_follower_can_be_removed(
    make_client: ClientFactory, settings: Settings
) -> None:
    """A pending request is answered with reject, not removed; a stranger is nobody."""
    client = await make_client(settings)
    db: Sessions = client.app[SESSIONS]
    async with db.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward", members_only=True)
        await _member(session, ward.id, ALICE)
        follower = await social.get_follower(session, ward.id, ALICE)
        assert follower is not None
        follower.state = FollowerState.PENDING
    coord = await coordinator(client, settings, db, ward.id)
    await coord.get(PEOPLE)
    before = len(await _queued(db))
    for actor in (ALICE, "https://nobody.example/users/x"):
        page = await coord.post(PEOPLE + "/followers/remove", {"actor": actor})
        assert page.status == 409, actor
    assert len(await _queued(db)) == before
    async with db() as session:
        row = await social.get_follower(session, ward.id, ALICE)
        assert row is not None
        assert row.state == FollowerState.PENDING
