"""Members-only communities (issue 18): what they send, to whom, and switching.

Everything a members-only community publishes is addressed to its followers collection,
never the Public, and queued for approved followers only: a shared inbox only when every
follower of the community behind it is approved, never a Group (a linked community).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import founding, publishing
from actors.content import StoryDraft
from actors.members import Visibility, VisibilityRefused, is_public
from actors.store import social
from actors.store.models import ActivityRow, DeliveryRow, RemoteActorRow
from actors.store.states import FollowerState
from actors.urls import Urls
from federation.clock import utcnow
from tests import factories
from tests.flows.copub import sqlite_only

pytestmark = sqlite_only

URLS = Urls(factories.BASE_URL)


async def _follower(
    session: AsyncSession,
    community_id: int,
    actor_id: str,
    *,
    shared: str | None,
    state: FollowerState,
    kind: str = "Person",
) -> None:
    row = RemoteActorRow(
        ap_id=actor_id, inbox=actor_id + "/inbox", shared_inbox=shared, actor_type=kind
    )
    session.add(row)
    await session.flush()
    await social.record_follow(session, community_id, row, actor_id + "/follow", closed=True)
    follower = await social.get_follower(session, community_id, actor_id)
    assert follower is not None
    follower.state = state


async def _sent(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[dict], set[str]]:  # type: ignore[type-arg]
    async with sessions() as session:
        activities = list(await session.scalars(select(ActivityRow.ap_json)))
        inboxes = set(await session.scalars(select(DeliveryRow.inbox)))
    return activities, inboxes


async def test_members_only_items_go_to_approved_members_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward", members_only=True)
        accepted = FollowerState.ACCEPTED
        # alone behind its shared inbox, approved: the shared inbox
        await _follower(session, ward.id, "https://a.example/u/ann", shared="https://a.example/inbox",
                        state=accepted)  # fmt: skip
        # an approved member and a pending one behind one shared inbox: the member's own
        await _follower(session, ward.id, "https://b.example/u/bo", shared="https://b.example/inbox",
                        state=accepted)  # fmt: skip
        await _follower(session, ward.id, "https://b.example/u/pat", shared="https://b.example/inbox",
                        state=FollowerState.PENDING)  # fmt: skip
        # a linked community (a Group), approved: never
        await _follower(session, ward.id, "https://c.example/c/open", shared="https://c.example/inbox",
                        state=accepted, kind="Group")  # fmt: skip
    async with sessions.begin() as session:
        await publishing.publish_story(
            session, URLS, ward, StoryDraft(title="Incident", markdown="What we learned.")
        )
    activities, inboxes = await _sent(sessions)
    assert inboxes == {"https://a.example/inbox", "https://b.example/u/bo/inbox"}
    assert activities
    for activity in activities:
        assert not is_public(activity), json.dumps(activity)
        assert URLS.community_followers("ward") in activity["to"] + activity.get("cc", [])


async def test_a_public_community_still_sends_to_the_public(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        open_ = await founding.create_community(session, slug="open", name="Open")
        await _follower(session, open_.id, "https://a.example/u/ann", shared="https://a.example/inbox",
                        state=FollowerState.ACCEPTED)  # fmt: skip
    async with sessions.begin() as session:
        await publishing.publish_story(session, URLS, open_, StoryDraft(title="Hi", markdown="x"))
    activities, inboxes = await _sent(sessions)
    assert inboxes == {"https://a.example/inbox"}
    assert all(is_public(a) for a in activities)


async def test_switching_to_members_only_and_never_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward")
        ward = await founding.update_community(
            session, URLS, ward, name=ward.name, summary=ward.summary, closed=False,
            profile_fields=(), now=utcnow(), visibility=Visibility.MEMBERS,
        )  # fmt: skip
        assert ward.members_only
        assert ward.closed
        # a later edit without a visibility keeps it members-only, even with closed=False
        ward = await founding.update_community(
            session, URLS, ward, name="Ward 7", summary="", closed=False, profile_fields=(),
            now=utcnow(),
        )  # fmt: skip
        assert ward.members_only
        for back in (Visibility.PUBLIC, Visibility.CLOSED):
            try:
                await founding.update_community(
                    session, URLS, ward, name=ward.name, summary="", closed=False,
                    profile_fields=(), now=utcnow(), visibility=back,
                )  # fmt: skip
            except VisibilityRefused:
                continue
            raise AssertionError(f"members-only became {back}")
