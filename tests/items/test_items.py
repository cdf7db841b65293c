"""The one write path of an item: storing, revising and withdrawing a story, practice, event,
member post, reply or linked item writes its row, its event details, its practice revisions,
the activity that tells of it (to every follower, to the outbox only, or none) and tells the
observers, all in the caller's transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.events import EventDraft
from actors.items import (
    Item,
    ItemKind,
    Owner,
    Revision,
    Send,
    revise_item,
    store_item,
    withdraw_item,
)
from actors.store import pages_queries, practice, social
from actors.store.models import ActivityRow, DeliveryRow, ObjectRow
from tests import factories
from tests.pages.builders import URLS, add_follower

Sessions = async_sessionmaker[AsyncSession]
FOLLOWER = "https://remote.test/users/ann"
MEMBER = "https://remote.test/users/bob"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def community(sessions: Sessions) -> Community:
    community = await factories.create_community(sessions)
    await add_follower(sessions, community, FOLLOWER)
    return community


def story(community: Community, oid: str = "s1", text: str = "<p>Night shift</p>") -> Item:
    ap_id = URLS.object(community.slug, oid)
    obj = {"id": ap_id, "type": "Note", "name": "Handover", "content": text}
    return Item(
        kind=ItemKind.STORY,
        owner=Owner.community(URLS, community),
        obj=obj,
        ap_type="Note",
        published=WHEN,
        title="Handover",
        content_html=text,
        source_markdown="Night shift",
    )


def member_practice(community: Community, summary: str = "Gist") -> Item:
    obj = {"id": f"{MEMBER}/articles/1", "type": "Article", "name": "Checklists"}
    return Item(
        kind=ItemKind.PRACTICE,
        owner=Owner.remote(community.id, MEMBER),
        obj=obj,
        ap_type="Article",
        published=WHEN,
        title="Checklists",
        content_html="<p>Use them</p>",
        summary=summary,
        status="emerging",
        source_markdown="Use them",
    )


def event_draft(hour: int = 18) -> EventDraft:
    return EventDraft(
        title="Meetup",
        markdown="Come along",
        start=WHEN.replace(hour=hour) + timedelta(days=30),
        timezone="UTC",
    )


async def activities(sessions: Sessions, community: Community) -> list[ActivityRow]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ActivityRow)
            .where(ActivityRow.community_id == community.id)
            .order_by(ActivityRow.id)
        )
        return list(rows)


async def deliveries(sessions: Sessions, activity: ActivityRow) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DeliveryRow.inbox).where(DeliveryRow.activity_id == activity.id)
        )
        return list(rows)


async def stored(sessions: Sessions, ap_id: str) -> ObjectRow:
    async with sessions() as session:
        row = await social.get_object(session, ap_id)
    assert row is not None
    return row


def test_kinds_are_the_strings_stored_today() -> None:
    assert [str(kind) for kind in ItemKind] == [
        "story", "practice", "event", "post", "reply", "linked",
    ]  # fmt: skip


async def test_a_stored_item_is_created_for_every_follower(
    sessions: Sessions, community: Community
) -> None:
    item = story(community)
    async with sessions.begin() as session:
        await store_item(session, item, send=Send(URLS, community))
    row = await stored(sessions, item.obj["id"])
    assert (row.kind, row.ap_type, row.local, row.title) == ("story", "Note", True, "Handover")
    assert (row.content_html, row.source_markdown) == ("<p>Night shift</p>", "Night shift")
    assert row.ap_json == item.obj
    assert row.published == WHEN
    assert row.updated is None
    [create] = await activities(sessions, community)
    assert create.ap_type == "Create"
    assert create.public
    assert create.object_ap_id == row.ap_id
    assert create.ap_json["object"] == item.obj
    assert await deliveries(sessions, create) == [FOLLOWER + "/inbox"]


async def test_outbox_only_records_the_activity_and_delivers_nothing(
    sessions: Sessions, community: Community
) -> None:
    item = story(community)
    async with sessions.begin() as session:
        await store_item(session, item, send=Send(URLS, community, fan_out=False))
    [create] = await activities(sessions, community)
    assert create.ap_type == "Create"
    assert create.ap_json["object"]["id"] == item.obj["id"]
    assert await deliveries(sessions, create) == []


async def test_a_filed_item_sends_nothing_and_keeps_its_history(
    sessions: Sessions, community: Community
) -> None:
    item = member_practice(community)
    async with sessions.begin() as session:
        row = await store_item(session, item, send=None, revision=Revision(MEMBER, None, WHEN))
        history = await pages_queries.revisions(session, row.id)
    assert await activities(sessions, community) == []
    assert [(r.number, r.editor, r.summary, r.created_at) for r in history] == [
        (1, MEMBER, "Gist", WHEN)
    ]
    row = await stored(sessions, item.obj["id"])
    assert (row.local, row.attributed_to, row.status) == (False, MEMBER, "emerging")


async def test_an_event_keeps_its_time_and_place(sessions: Sessions, community: Community) -> None:
    item = replace(story(community), kind=ItemKind.EVENT, ap_type="Event", event=event_draft())
    async with sessions.begin() as session:
        row = await store_item(session, item, send=Send(URLS, community))
    new = replace(item, updated=WHEN + timedelta(hours=1), event=event_draft(hour=20))
    async with sessions.begin() as session:
        await revise_item(session, row, new, send=Send(URLS, community))
    async with sessions() as session:
        detail = await practice.get_event_detail(session, row.id)
    assert detail is not None
    assert detail.start_time == event_draft(hour=20).start


async def test_a_revision_takes_the_new_version_and_tells_of_it(
    sessions: Sessions, community: Community
) -> None:
    item = member_practice(community)
    async with sessions.begin() as session:
        row = await store_item(session, item, send=None, revision=Revision(MEMBER, None, WHEN))
    later = WHEN + timedelta(days=1)
    obj = {**item.obj, "name": "Checklists, always"}
    new = replace(item, obj=obj, title="Checklists, always", summary="New", updated=later)
    async with sessions.begin() as session:
        row = await social.get_object(session, item.obj["id"]) or row
        await revise_item(
            session, row, new, send=Send(URLS, community), revision=Revision(MEMBER, "why", later)
        )
        history = await pages_queries.revisions(session, row.id)
    row = await stored(sessions, item.obj["id"])
    assert (row.title, row.summary, row.ap_json, row.updated) == (
        "Checklists, always", "New", obj, later,
    )  # fmt: skip
    assert [(r.number, r.summary, r.change_note) for r in history] == [
        (1, "Gist", None), (2, "New", "why"),
    ]  # fmt: skip
    [update] = await activities(sessions, community)
    assert update.ap_type == "Update"
    assert update.ap_json["object"]["name"] == "Checklists, always"
    assert update.ap_json["object"]["updated"] == "2026-03-02T12:00:00Z"
    assert await deliveries(sessions, update) == [FOLLOWER + "/inbox"]


async def test_a_revision_never_changes_the_kind(sessions: Sessions, community: Community) -> None:
    item = story(community)
    async with sessions.begin() as session:
        row = await store_item(session, item, send=None)
        with pytest.raises(ValueError, match="kind"):
            await revise_item(session, row, replace(item, kind=ItemKind.EVENT), send=None)


async def test_a_withdrawn_item_takes_its_activities_with_it(
    sessions: Sessions, community: Community
) -> None:
    item = story(community)
    async with sessions.begin() as session:
        row = await store_item(session, item, send=Send(URLS, community))
    async with sessions.begin() as session:
        row = await social.get_object(session, item.obj["id"]) or row
        await withdraw_item(session, row, send=Send(URLS, community))
    row = await stored(sessions, item.obj["id"])
    assert row.deleted_at is not None
    create, delete = await activities(sessions, community)
    assert not create.public
    assert delete.public
    assert delete.ap_json["object"] == {
        "id": item.obj["id"], "type": "Tombstone", "formerType": "Note",
    }  # fmt: skip
    assert await deliveries(sessions, delete) == [FOLLOWER + "/inbox"]


class Recorder:
    """An observer that notes what it was told and whether the row had its id then."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str, bool]] = []

    async def on_object_stored(self, session: AsyncSession, row: ObjectRow) -> None:
        self.told.append(("stored", row.ap_id, row.id is not None))

    async def on_object_updated(self, session: AsyncSession, row: ObjectRow) -> None:
        self.told.append(("updated", row.ap_id, row.id is not None))

    async def on_object_deleted(self, session: AsyncSession, row: ObjectRow) -> None:
        count = await session.scalar(select(func.count()).select_from(ObjectRow))
        self.told.append(("deleted", row.ap_id, bool(count) and row.deleted_at is not None))


async def test_observers_are_told_inside_the_transaction(
    sessions: Sessions, community: Community
) -> None:
    recorder = Recorder()
    item = member_practice(community)
    async with sessions.begin() as session:
        row = await store_item(session, item, send=None, observers=[recorder])
        await revise_item(
            session, row, replace(item, updated=WHEN), send=None, observers=[recorder]
        )
        await withdraw_item(session, row, send=None, observers=[recorder])
    ap_id = item.obj["id"]
    assert recorder.told == [("stored", ap_id, True), ("updated", ap_id, True),
                             ("deleted", ap_id, True)]  # fmt: skip
