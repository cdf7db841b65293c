"""Live sync: forum topics and posts reach followers through Discourse's webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow, RevisionRow
from adapters.discourse.models import ForumJobRow, ForumPostRow
from tests.discourse.harness import SLUG, count_rows, jobs_settled, snapshot
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Delivery, Person, RemoteServer

EVENT = (
    '[event start="2026-12-01 18:00" end="2026-12-01 20:00" timezone="Europe/Paris" '
    'status="public"]\n[/event]\nMonthly case review, room 4 or online.'
)


def created(kind: str | None = None) -> object:
    def check(got: list[Delivery]) -> list[Delivery]:
        return [
            d
            for d in got
            if d.ok
            and d.type == "Create"
            and (kind is None or d.activity["object"].get("type") == kind)
        ]

    return check


def about(type_: str, object_id: str) -> object:
    def check(got: list[Delivery]) -> list[Delivery]:
        return [d for d in got if d.ok and d.type == type_ and _object_id(d.activity) == object_id]

    return check


def _object_id(activity: dict[str, object]) -> object:
    obj = activity.get("object")
    return obj.get("id") if isinstance(obj, dict) else obj


async def test_topic_created_in_the_forum_reaches_followers(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    # When Nora opens a topic in the connected category
    await forum.create_topic(
        "Insulin at 3 am",
        "We nearly doubled a dose. **Always** double-check.",
        user=nora,
        category=category,
    )
    await forum.hooks.settle()
    # Then the follower gets one Create of a Note by the community, with the text
    [delivery] = await remote.wait_for(created("Note"))
    note = delivery.activity["object"]
    assert delivery.signer == copub.actor(SLUG)
    assert note["attributedTo"] == copub.actor(SLUG)
    assert "Insulin at 3 am" in note["content"]
    assert "<strong>Always</strong> double-check" in note["content"]
    assert "Nora Night</strong> (@nora on the forum)" in note["content"]
    assert note["url"].startswith(forum.base_url + "/t/insulin-at-3-am/")
    # And both webhooks (topic_created, post_created) were accepted, the repeat changed nothing
    assert [h.event for h in forum.hooks.sent] == ["topic_created", "post_created"]
    assert all(h.status == 200 for h in forum.hooks.sent)
    await jobs_settled(copub)
    assert len(await copub.sent("Create")) == 1


async def test_a_webhook_is_kept_as_a_job_holding_its_event_id_and_body(
    copub: Copub, forum: FakeDiscourse, category: Category, nora: User, community: str
) -> None:
    """Each verified webhook is stored before the 200 as a ``webhook`` job whose payload is
    ``{"event", "event_id", "body"}`` (the shape jobs already stored have), then done."""
    await forum.create_topic("Handover notes", "Write them down.", user=nora, category=category)
    await forum.hooks.settle()
    await jobs_settled(copub)
    async with copub.sessions() as session:
        jobs = list(await session.scalars(select(ForumJobRow).order_by(ForumJobRow.id)))
    assert [(j.kind, j.state) for j in jobs] == [("webhook", "done"), ("webhook", "done")]
    assert [j.payload for j in jobs] == [
        {"event": h.event, "event_id": str(h.event_id), "body": h.payload} for h in forum.hooks.sent
    ]


@sqlite_only
async def test_edit_sends_update_and_delete_sends_delete(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic = await forum.create_topic(
        "Handover", "First version of the handover note.", user=nora, category=category
    )
    [create] = await remote.wait_for(created())
    object_id = create.activity["object"]["id"]
    # When Nora edits the first post (and the title)
    first = forum.posts[topic.post_ids[0]]
    await forum.edit(first, "Second version of the handover note.", title="Handover, v2")
    # Then followers get an Update with the new text
    [update] = await remote.wait_for(about("Update", object_id))
    assert "Second version" in update.activity["object"]["content"]
    assert "Handover, v2" in update.activity["object"]["content"]
    # When a moderator deletes the topic
    await forum.delete_topic(topic)
    # Then followers get a Delete of it and its URL answers 410
    [delete] = await remote.wait_for(about("Delete", object_id))
    assert delete.activity["object"]["type"] == "Tombstone"
    status, _ = await copub.get(object_id)
    assert status == 410


@sqlite_only
async def test_forum_reply_is_a_reply_in_the_thread(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic = await forum.create_topic(
        "Night rounds", "How do you time your night rounds?", user=nora, category=category
    )
    [create] = await remote.wait_for(created())
    root = create.activity["object"]["id"]
    sam = forum.add_user("sam", "Sam Shift")
    # When Sam replies in the forum
    await forum.reply(topic, "Every two hours, with a **checklist**.", user=sam)
    # Then followers get a Note by the community in reply to the topic, saying who wrote it
    [reply] = await remote.wait_for(
        lambda got: [
            d for d in created("Note")(got) if d.activity["object"].get("inReplyTo") == root
        ]
    )
    note = reply.activity["object"]
    assert note["attributedTo"] == copub.actor(SLUG)
    assert note["content"].startswith(
        "<p><strong>Sam Shift</strong> (@sam on the forum) wrote:</p>"
    )
    assert "<strong>checklist</strong>" in note["content"]
    # And the topic's replies collection lists it
    status, replies = await copub.get(root.rstrip("/") + "/replies?page=1")
    assert status == 200, replies
    assert note["id"] in json.dumps(replies)


async def test_events_out_of_order_and_repeated_apply_once(
    copub: Copub, forum: FakeDiscourse, category: Category, nora: User, community: str
) -> None:
    forum.hooks.pause()
    topic = await forum.create_topic(
        "Checklist", "The night checklist, version one.", user=nora, category=category
    )
    first = forum.posts[topic.post_ids[0]]
    reply = await forum.reply(topic, "A reply that will be edited twice.", user=nora)
    await forum.edit(reply, "A reply, edited once, and more.")
    await forum.edit(reply, "A reply, edited twice, final text.")
    await forum.edit(first, "The night checklist, version two.")
    # When every event arrives in reverse order, then all again (Discourse retries: new ids)
    await forum.hooks.release(reverse=True, twice=True)
    assert len({h.event_id for h in forum.hooks.sent}) == len(forum.hooks.sent) == 12
    await jobs_settled(copub)
    # Then there is one topic object and one reply object, each with the latest text
    async with copub.sessions() as session:
        objects = list(await session.scalars(select(ObjectRow).order_by(ObjectRow.id)))
    assert [o.kind for o in objects] == ["story", "reply"]
    assert "version two" in objects[0].content_html
    assert "edited twice, final text" in objects[1].content_html
    assert objects[1].in_reply_to == objects[0].ap_id
    # And nothing was applied twice: one Create each, at most one Update each
    creates = await copub.sent("Create")
    assert len(creates) == 2
    before = await snapshot(copub)
    await forum.hooks.redeliver(forum.hooks.sent[-1])
    await jobs_settled(copub)
    assert await snapshot(copub) == before


@sqlite_only
async def test_bad_signature_is_refused_and_changes_nothing(
    copub: Copub, forum: FakeDiscourse, category: Category, nora: User, community: str
) -> None:
    forum.hooks.pause()
    await forum.create_topic(
        "Forged", "A topic someone forges a webhook for.", user=nora, category=category
    )
    [hook, _] = forum.hooks.pending
    before = await snapshot(copub)
    for signature in ("sha256=" + "0" * 64, "", "md5=abc", None):
        headers = forum.hooks.headers(hook, signature="" if signature is None else signature)
        if signature is None:
            headers.pop("X-Discourse-Event-Signature")
        status, answer = await forum.hooks.post(hook, headers)
        assert status == 401, answer
        assert "X-Discourse-Event-Signature" in answer["error"]
    # A body changed after signing does not verify either
    headers = forum.hooks.headers(hook)
    hook.body = hook.body.replace(b"Forged", b"Fooled")
    status, _ = await forum.hooks.post(hook, headers)
    assert status == 401
    assert await snapshot(copub) == before
    assert await count_rows(copub, ForumJobRow) == 0


@sqlite_only
async def test_ping_and_unknown_community(copub: Copub, forum: FakeDiscourse) -> None:
    hook = await forum.hooks.emit("ping", "ping", {"ping": "OK"})
    await forum.hooks.settle()
    assert forum.hooks.sent[-1].status == 200
    forum.hooks.url = copub.base_url + "/adapters/discourse/other/webhook"
    hook = await forum.hooks.emit("ping", "ping", {"ping": "OK"})
    await forum.hooks.settle()
    assert forum.hooks.sent[-1].status == 404
    assert hook.event_id == forum.hooks.sent[-1].event_id


@sqlite_only
async def test_event_topic_becomes_an_event(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    await forum.create_topic("Monthly case review", EVENT, user=nora, category=category)
    [delivery] = await remote.wait_for(created("Event"))
    event = delivery.activity["object"]
    assert event["name"] == "Monthly case review"
    assert event["startTime"] == "2026-12-01T18:00:00+01:00"  # as Mobilizon writes it
    assert event["endTime"] == "2026-12-01T20:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    assert "room 4" in event["content"]
    assert "discourse-post-event" not in event["content"]
    # And it is in the community's calendar, at 17:00 UTC
    async with copub.sessions() as session:
        [detail] = list(await session.scalars(select(EventDetailRow)))
    assert detail.start_time == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert detail.timezone == "Europe/Paris"


@sqlite_only
async def test_tagged_topic_becomes_a_practice(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    await forum.create_topic(
        "Double-check protocol",
        "Two nurses read the dose aloud.",
        user=nora,
        category=category,
        tags=("practice", "insulin"),
    )
    [delivery] = await remote.wait_for(created("Article"))
    article = delivery.activity["object"]
    assert article["name"] == "Double-check protocol"
    assert "Two nurses read the dose aloud" in article["summary"]
    assert article["creativeWorkStatus"] == "emerging"
    async with copub.sessions() as session:
        [revision] = list(await session.scalars(select(RevisionRow)))
    assert revision.editor == forum.base_url + "/u/nora"
    assert {t["name"] for t in article["tag"]} == {"#practice", "#insulin"}
    assert await count_rows(copub, ForumPostRow) == 1


@sqlite_only
async def test_other_categories_are_ignored_and_a_moved_topic_is_deleted(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    general = forum.add_category("general", "General")
    await forum.create_topic(
        "Elsewhere", "A topic in another category.", user=nora, category=general
    )
    topic = await forum.create_topic(
        "Moving soon", "This topic will be moved away.", user=nora, category=category
    )
    [create] = await remote.wait_for(created())
    assert "Moving soon" in create.activity["object"]["content"]
    # When a moderator moves the topic to another category
    await forum.move_topic(topic, general)
    # Then it leaves the community: followers get a Delete
    await remote.wait_for(about("Delete", create.activity["object"]["id"]))
    await jobs_settled(copub)
    assert await count_rows(copub, ObjectRow, ObjectRow.deleted_at.is_(None)) == 0


@sqlite_only
async def test_a_revoked_key_is_an_error_retried_slowly_not_a_crash_loop(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    community: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    forum.keys.clear()  # the admin revoked the key
    await forum.create_topic(
        "After the revocation", "A topic nobody can fetch now.", user=nora, category=category
    )
    await forum.hooks.settle()
    await jobs_settled(copub)
    async with copub.sessions() as session:
        jobs = list(await session.scalars(select(ForumJobRow)))
    assert {j.state for j in jobs} == {"retrying"}
    assert all("API username or key is invalid" in (j.last_error or "") for j in jobs)
    assert all(j.attempts == 1 for j in jobs)  # waiting minutes, not hammering the forum
    assert all((j.next_try_at - j.updated_at).total_seconds() >= 299 for j in jobs)
    assert "copub discourse check nightshift" in caplog.text


@sqlite_only
async def test_an_authors_own_delete_is_a_delete_not_an_update(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic = await forum.create_topic(
        "Night rounds", "How do you time your night rounds?", user=nora, category=category
    )
    [create] = await remote.wait_for(created())
    root = create.activity["object"]["id"]
    sam = forum.add_user("sam", "Sam Shift")
    reply = await forum.reply(topic, "Every two hours, with a checklist.", user=sam)
    [reply_create] = await remote.wait_for(
        lambda got: [d for d in created()(got) if d.activity["object"].get("inReplyTo") == root]
    )
    reply_id = reply_create.activity["object"]["id"]
    # When Sam deletes his own reply (Discourse replaces its text, marks it user_deleted)
    await forum.delete_own_post(reply)
    # Then followers get a Delete of it, never an Update saying "(post deleted by author)"
    await remote.wait_for(about("Delete", reply_id))
    # When Nora deletes her own topic the same way
    await forum.delete_own_post(forum.posts[topic.post_ids[0]])
    await remote.wait_for(about("Delete", root))
    await jobs_settled(copub)
    assert not [d for d in remote.received if d.type == "Update"]
    assert await copub.sent("Update") == []
