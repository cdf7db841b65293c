"""Members-only communities (issue 18): what they send, to whom, and switching.

Everything a members-only community publishes is addressed to its followers collection,
never the Public, and queued for approved followers only: a shared inbox only when every
follower of the community behind it is approved; a Group (a linked community) only when it
is approved and members-only itself.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import founding, outbound, publishing
from actors.content import StoryDraft
from actors.members import Visibility, is_public
from actors.store import members, social
from actors.store.models import ActivityRow, DeliveryRow, ObjectRow, RemoteActorRow
from actors.store.states import FollowerState
from actors.urls import Urls
from federation.clock import utcnow
from tests import factories

URLS = Urls(factories.BASE_URL)


async def _follower(
    session: AsyncSession,
    community_id: int,
    actor_id: str,
    *,
    shared: str | None,
    state: FollowerState,
    kind: str = "Person",
    document: dict[str, object] | None = None,
) -> None:
    row = RemoteActorRow(
        ap_id=actor_id,
        inbox=actor_id + "/inbox",
        shared_inbox=shared,
        actor_type=kind,
        ap_json=document or {},
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


async def test_a_linked_group_is_a_member_only_when_members_only_and_approved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Its Group document marks a members-only community (``membersOnly``); one that only
    approves its followers (``manuallyApprovesFollowers``: closed, items public) is not one,
    nor a members-only Group still pending; neither makes its server a member's."""
    marked = {"type": "Group", "manuallyApprovesFollowers": True, "membersOnly": True}
    closed = {"type": "Group", "manuallyApprovesFollowers": True}
    accepted, pending = FollowerState.ACCEPTED, FollowerState.PENDING
    async with sessions.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward", members_only=True)
        for actor, shared, state, document in (
            ("https://m.example/c/sister", "https://m.example/inbox", accepted, marked),
            ("https://c.example/c/closed", "https://c.example/inbox", accepted, closed),
            ("https://p.example/c/waiting", "https://p.example/inbox", pending, marked),
            ("https://o.example/c/open", "https://o.example/inbox", accepted, {"type": "Group"}),
        ):
            await _follower(session, ward.id, actor, shared=shared, state=state, kind="Group",
                            document=document)  # fmt: skip
        # a member behind the closed community's shared inbox: their own inbox
        await _follower(session, ward.id, "https://c.example/u/cat", shared="https://c.example/inbox",
                        state=accepted)  # fmt: skip
    async with sessions.begin() as session:
        await publishing.publish_story(
            session, URLS, ward, StoryDraft(title="Incident", markdown="What we learned.")
        )
    activities, inboxes = await _sent(sessions)
    assert inboxes == {"https://m.example/inbox", "https://c.example/u/cat/inbox"}
    assert not any(is_public(a) for a in activities)
    async with sessions() as session:
        for signer, allowed in (
            ("https://m.example/c/sister", True),
            ("https://m.example/actor", True),  # the sister community's server
            ("https://c.example/c/closed", True),  # its server hosts cat, a member
            ("https://o.example/c/open", False),
            ("https://o.example/actor", False),
            ("https://p.example/c/waiting", False),
            ("https://p.example/actor", False),
        ):
            assert await members.may_fetch(session, ward.id, signer) is allowed, signer


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


async def test_switching_to_members_only_and_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Back to public, the earlier items stay members-only (marked, their activities out
    of the outbox, nothing re-announced); what comes after is public again."""
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
        await _follower(session, ward.id, "https://a.example/u/ann", shared="https://a.example/inbox",
                        state=FollowerState.ACCEPTED)  # fmt: skip
        earlier = await publishing.publish_story(
            session, URLS, ward, StoryDraft(title="Earlier", markdown="For members.")
        )
    async with sessions() as session:
        deliveries_before = await session.scalar(select(func.count()).select_from(DeliveryRow))
    async with sessions.begin() as session:
        ward = await founding.update_community(
            session, URLS, ward, name=ward.name, summary="", closed=False,
            profile_fields=(), now=utcnow(), visibility=Visibility.PUBLIC,
        )  # fmt: skip
        assert not ward.members_only
        assert not ward.closed
        assert ward.gated_items
    async with sessions() as session:
        kept = await session.get(ObjectRow, earlier.id)
        assert kept is not None
        assert kept.members_only
        assert await social.list_outbox(session, ward.id, offset=0, limit=50) == []
        sent = list(await session.scalars(select(ActivityRow.ap_json).order_by(ActivityRow.id)))
        deliveries = await session.scalar(select(func.count()).select_from(DeliveryRow))
    # only the Update of the Group went out: no earlier item re-announced
    assert [a["type"] for a in sent][-1] == "Update"
    assert deliveries == (deliveries_before or 0) + 1
    async with sessions.begin() as session:
        later = await publishing.publish_story(
            session, URLS, ward, StoryDraft(title="Later", markdown="For all.")
        )
        assert not later.members_only
    async with sessions() as session:
        outbox = await social.list_outbox(session, ward.id, offset=0, limit=50)
    assert [a.object_ap_id for a in outbox] == [later.ap_id]
    assert is_public(outbox[0].ap_json)
    # the gate answers a kept item and a missing one alike (the same path, the same time)
    async with sessions() as session:
        until = ward.members_until
        assert await members.kept_or_missing(session, ward.id, earlier.ap_id) == (True, until)
        missing = URLS.object("ward", "no-such-item")
        assert await members.kept_or_missing(session, ward.id, missing) == (True, until)
        assert await members.kept_or_missing(session, ward.id, later.ap_id) == (False, until)


async def test_news_of_a_kept_item_goes_to_members_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """After the switch to public, an Update of an earlier item and the relay of a reply
    to it go to approved members alone, addressed to them, never into the outbox; the
    reply is kept too."""
    async with sessions.begin() as session:
        ward = await founding.create_community(session, slug="ward", name="Ward", members_only=True)
        await _follower(session, ward.id, "https://a.example/u/ann", shared="https://a.example/inbox",
                        state=FollowerState.ACCEPTED)  # fmt: skip
        earlier = await publishing.publish_story(
            session, URLS, ward, StoryDraft(title="Earlier", markdown="For members.")
        )
        ward = await founding.update_community(
            session, URLS, ward, name=ward.name, summary="", closed=False,
            profile_fields=(), now=utcnow(), visibility=Visibility.PUBLIC,
        )  # fmt: skip
        # a newcomer follows the public community: never told of the earlier item
        await _follower(session, ward.id, "https://n.example/u/new", shared=None,
                        state=FollowerState.ACCEPTED)  # fmt: skip
    async with sessions() as session:
        before = {d for d in await session.scalars(select(DeliveryRow.id))}
    reply_id = "https://a.example/notes/1"
    async with sessions.begin() as session:
        update_ = outbound.build_update(URLS, ward, earlier.ap_json, utcnow())
        await outbound.send_to_followers(session, ward, update_, object_id=earlier.ap_id)
        session.add(
            ObjectRow(ap_id=reply_id, community_id=ward.id, kind="reply", ap_type="Note",
                      attributed_to="https://a.example/u/ann", in_reply_to=earlier.ap_id,
                      thread_root=earlier.ap_id, ap_json={"id": reply_id, "type": "Note"})
        )  # fmt: skip
        announce = outbound.build_announce(URLS, ward, reply_id)
        await outbound.send_to_followers(session, ward, announce, object_id=reply_id)
    async with sessions() as session:
        rows = list(await session.execute(select(DeliveryRow.id, DeliveryRow.inbox)))
        sent = [
            (await session.get(ActivityRow, r.activity_id))
            for r in await session.scalars(select(DeliveryRow))
            if r.id not in before
        ]
        assert await social.list_outbox(session, ward.id, offset=0, limit=50) == []
        reply = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == reply_id))
        assert reply is not None
        assert reply.members_only
    new = {inbox for id_, inbox in rows if id_ not in before}
    assert new == {"https://a.example/inbox"}
    assert len(sent) == 2
    for activity in sent:
        assert activity is not None
        assert not activity.public
        assert not is_public(activity.ap_json), json.dumps(activity.ap_json)
