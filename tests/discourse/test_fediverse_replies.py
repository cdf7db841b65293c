"""Fediverse -> forum: a Mastodon reply lands in the forum topic once, by the bot,
quoting its author; edits and deletes follow; the webhook echo never comes back."""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import ObjectRow
from adapters.discourse.models import ForumJobRow, ForumPostRow
from tests.discourse.harness import BOT, SLUG, count_rows, jobs_settled, snapshot
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, Post, Topic, User
from tests.flows.copub import Copub, sqlite_only, wait_until
from tests.flows.remote import Delivery, Person, RemoteServer


async def mirrored_topic(
    forum: FakeDiscourse, category: Category, nora: User, remote: RemoteServer
) -> tuple[Topic, str]:
    """Nora's topic, and the id of the object followers got for it."""
    topic = await forum.create_topic(
        "Insulin at night", "Who double-checks insulin at 3 am?", user=nora, category=category
    )
    [create] = await remote.wait_for(lambda got: [d for d in got if d.ok and d.type == "Create"])
    return topic, create.activity["object"]["id"]


def bot_posts(forum: FakeDiscourse, topic: Topic) -> list[Post]:
    return [forum.posts[i] for i in topic.post_ids if forum.posts[i].user.username == BOT]


async def until_bot_posts(forum: FakeDiscourse, topic: Topic, n: int = 1) -> list[Post]:
    async def check() -> list[Post]:
        posts = bot_posts(forum, topic)
        return posts if len(posts) >= n else []

    return await wait_until(check, 15, f"{n} post(s) by the bot in topic {topic.id}")


async def test_mastodon_reply_appears_in_the_topic_once_and_its_echo_is_ignored(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic, root = await mirrored_topic(forum, category, nora, remote)
    # When alice replies on Mastodon to the community's post
    note = remote.note(
        follower,
        "We ask a second nurse, every time.",
        mention=copub.mention(SLUG),
        in_reply_to=root,
    )
    await remote.send_create(follower, copub.inbox(SLUG), note)
    # Then the bot posts it into the topic, saying who wrote it, with a link to the original
    [post] = await until_bot_posts(forum, topic)
    assert post.raw.startswith(
        f"**Alice** ([@alice@{remote.domain}]({remote.base_url}/@alice)) "
        f"[replied on the fediverse]({note['id']}):"
    )
    assert "> We ask a second nurse, every time." in post.raw
    assert "@nightshift" not in post.raw  # the mention of the community itself is dropped
    assert post.reply_to_post_number is None  # a reply to the topic, not to a post
    # And the forum's webhook about that post (the echo) was accepted and ignored
    await forum.hooks.settle()
    echo = [h for h in forum.hooks.sent if h.payload.get("post", {}).get("id") == post.id]
    assert [h.status for h in echo] == [200]
    await jobs_settled(copub)
    before = await snapshot(copub)
    assert before["objects"] == 2  # the topic and alice's reply, nothing for the echo
    # And a redelivery of the echo changes nothing either
    await forum.hooks.redeliver(echo[0])
    await jobs_settled(copub)
    assert await snapshot(copub) == before
    assert len(bot_posts(forum, topic)) == 1
    [link] = [r for r in await links(copub) if r.origin == "fediverse"]
    assert (link.post_id, link.object_ap_id) == (post.id, note["id"])


@sqlite_only
async def test_edit_and_delete_on_mastodon_follow_into_the_forum(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic, root = await mirrored_topic(forum, category, nora, remote)
    note = remote.note(follower, "First thought on insulin checks.", in_reply_to=root)
    await remote.send_create(follower, copub.inbox(SLUG), note)
    [post] = await until_bot_posts(forum, topic)
    # When alice edits her reply
    await remote.send_update(follower, copub.inbox(SLUG), note, "Second thought, edited.")
    await wait_until(lambda: _true(post.version == 2), 15, "the forum post edited")
    assert "> Second thought, edited." in post.raw
    # When she deletes it
    await remote.send_delete(follower, copub.inbox(SLUG), note)
    await wait_until(lambda: _true(post.deleted_at is not None), 15, "the forum post deleted")
    await forum.hooks.settle()
    await jobs_settled(copub)
    # Then the echoes (post_edited, post_destroyed) were ignored: nothing new on our side
    assert await count_rows(copub, ObjectRow) == 2
    assert [h.event for h in forum.hooks.sent[2:]] == [
        "post_created",
        "post_edited",
        "post_destroyed",
    ]
    assert all(h.status == 200 for h in forum.hooks.sent)


@sqlite_only
async def test_reply_to_a_forum_reply_answers_that_post(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic, root = await mirrored_topic(forum, category, nora, remote)
    sam = forum.add_user("sam", "Sam Shift")
    await forum.reply(topic, "We use a barcode scanner for this.", user=sam)

    def reply_note(got: list[Delivery]) -> list[Delivery]:
        return [
            d
            for d in got
            if d.ok and d.type == "Create" and d.activity["object"].get("inReplyTo") == root
        ]

    [sams] = await remote.wait_for(reply_note)
    note = remote.note(
        follower, "Which scanner do you use, Sam?", in_reply_to=sams.activity["object"]["id"]
    )
    await remote.send_create(follower, copub.inbox(SLUG), note)
    [post] = await until_bot_posts(forum, topic)
    assert post.reply_to_post_number == 2


@sqlite_only
async def test_a_failed_write_is_retried_from_the_queue_not_lost(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic, root = await mirrored_topic(forum, category, nora, remote)
    await forum.hooks.settle()
    await jobs_settled(copub)
    # Given the forum fails the first POST, and carries out the second but loses its answer
    forum.fail_next(503)
    forum.lose_answers = 1
    note = remote.note(follower, "A reply that meets a flaky forum.", in_reply_to=root)
    await remote.send_create(follower, copub.inbox(SLUG), note)
    # Then the reply arrives exactly once (the third try finds the post the second made)
    [post] = await until_bot_posts(forum, topic)
    assert "A reply that meets a flaky forum." in post.raw
    await wait_until(lambda: _done(copub), 15, "the reply job done")
    async with copub.sessions() as session:
        [job] = list(await session.scalars(select(ForumJobRow).where(ForumJobRow.kind == "reply")))
    assert (job.state, job.attempts) == ("done", 3)
    assert len(bot_posts(forum, topic)) == 1
    posts = [e for e in forum.exchanges if e.method == "POST"]
    assert [e.status for e in posts] == [503, 504]


@sqlite_only
async def test_after_the_key_is_fixed_retry_sends_the_queued_write_at_once(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    topic, root = await mirrored_topic(forum, category, nora, remote)
    await forum.hooks.settle()
    await jobs_settled(copub)
    # Given the key is revoked when alice's reply comes: the write waits five minutes
    keys, forum.keys = dict(forum.keys), {}
    note = remote.note(follower, "A reply written while the key was revoked.", in_reply_to=root)
    await remote.send_create(follower, copub.inbox(SLUG), note)

    async def waiting() -> list[ForumJobRow]:
        async with copub.sessions() as session:
            query = select(ForumJobRow).where(
                ForumJobRow.kind == "reply", ForumJobRow.state == "retrying"
            )
            return list(await session.scalars(query))

    [job] = await wait_until(waiting, 15, "the reply job waiting for a retry")
    assert (job.next_try_at - job.updated_at).total_seconds() >= 299
    # When the admin fixes the key and runs `copub discourse retry`
    forum.keys = keys
    out = await copub.cli("discourse", "retry", SLUG)
    assert "1 jobs due now (1 waiting for a retry, 0 failed)" in out
    # Then the reply is posted within seconds, not minutes
    [post] = await until_bot_posts(forum, topic)
    assert "A reply written while the key was revoked." in post.raw
    await wait_until(lambda: _done(copub), 15, "the reply job done")


async def _done(copub: Copub) -> bool:
    return (
        await count_rows(
            copub, ForumJobRow, ForumJobRow.kind == "reply", ForumJobRow.state == "done"
        )
        == 1
    )


async def _true(value: bool) -> bool:
    return value


async def links(copub: Copub) -> list[ForumPostRow]:
    async with copub.sessions() as session:
        return list(await session.scalars(select(ForumPostRow).order_by(ForumPostRow.id)))
