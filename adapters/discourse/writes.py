"""Fediverse -> forum: members' replies in a mirrored thread are posted into the topic by
the bot account, quoting who wrote them; their edits and deletes follow.

:class:`ReplyObserver` (an ``actors.hooks.ObjectObserver``) only queues a job, in the
transaction that stores the reply; :func:`perform` does the API call later, from the job
worker, so a failed write is retried, never lost. Every post written is recorded in the
mapping table with origin ``fediverse``: its webhook echo is ignored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from actors.items import Author, ItemKind, ObjectRow, author_of, community_of, find_item
from actors.store.db import AsyncSession, after_commit
from adapters.discourse import store
from adapters.discourse.client import NotFound
from adapters.discourse.compose import reply_raw
from adapters.discourse.mapping import fingerprint
from adapters.discourse.models import ForumJobKind, ForumJobRow, ForumPostRow, PostOrigin
from adapters.discourse.runtime import ForumRuntime
from adapters.discourse.wire import ForumPost
from federation.vocab import get_id

log = logging.getLogger(__name__)

EDIT_REASON = "edited on the fediverse"


class ReplyObserver:
    """Queues forum writes for fediverse replies in threads mirrored from a forum."""

    def __init__(self, slugs: frozenset[str], wake: Callable[[], None]) -> None:
        self.slugs = slugs
        self.wake = wake
        self._slug_of: dict[int, str | None] = {}

    async def _connected(self, session: AsyncSession, row: ObjectRow) -> bool:
        if row.community_id not in self._slug_of:
            community = await community_of(session, row)
            self._slug_of[row.community_id] = community.slug if community else None
        return self._slug_of[row.community_id] in self.slugs

    async def _queue(self, session: AsyncSession, row: ObjectRow, kind: ForumJobKind) -> None:
        await store.enqueue(session, row.community_id, kind, object_ap_id=row.ap_id)
        after_commit(session, self.wake)

    async def _written(self, session: AsyncSession, row: ObjectRow) -> bool:
        link = await store.link_of_object(session, row.ap_id)
        if link is not None:
            return link.origin == PostOrigin.FEDIVERSE and not link.deleted
        return await store.has_pending_write(session, row.ap_id, ForumJobKind.REPLY)

    async def on_object_stored(self, session: AsyncSession, row: ObjectRow) -> None:
        if row.local or row.kind != ItemKind.REPLY or not await self._connected(session, row):
            return
        thread = row.thread_root or row.in_reply_to
        if thread is not None and await store.link_of_object(session, thread) is not None:
            await self._queue(session, row, ForumJobKind.REPLY)

    async def on_object_updated(self, session: AsyncSession, row: ObjectRow) -> None:
        if await self._connected(session, row) and await self._written(session, row):
            await self._queue(session, row, ForumJobKind.EDIT)

    async def on_object_deleted(self, session: AsyncSession, row: ObjectRow) -> None:
        if await self._connected(session, row) and await self._written(session, row):
            await self._queue(session, row, ForumJobKind.DELETE)


def _handle_of(author: Author) -> str:
    if author.handle:
        return author.handle
    host = author.ap_id.split("://", 1)[-1].split("/", 1)[0]
    return f"{author.ap_id.rstrip('/').rsplit('/', 1)[-1]}@{host}"


def compose(runtime: ForumRuntime, row: ObjectRow, author: Author) -> str:
    handle = _handle_of(author)
    original = get_id(row.ap_json.get("url")) or row.ap_id
    community = runtime.urls.community(runtime.slug)
    return reply_raw(
        name=author.name or handle,
        handle=handle,
        profile_url=author.url or row.attributed_to,
        original_url=original,
        content_html=row.content_html,
        drop_links=frozenset({community}),
    )


@dataclass(frozen=True)
class _Reply:
    """A live reply as stored, who wrote it, and where it goes in the forum."""

    row: ObjectRow
    author: Author
    root: ForumPostRow | None  # the topic's first post
    parent: ForumPostRow | None  # the post it answers


async def _reply(session: AsyncSession, object_ap_id: str) -> _Reply | None:
    row = await find_item(session, object_ap_id)
    if row is None or row.deleted_at is not None:
        return None
    return _Reply(
        row,
        await author_of(session, row),
        root=await store.link_of_object(session, row.thread_root or row.in_reply_to or ""),
        parent=await store.link_of_object(session, row.in_reply_to or ""),
    )


async def perform(runtime: ForumRuntime, job: ForumJobRow) -> str:
    """Do one write; returns what happened (for the log)."""
    assert job.object_ap_id is not None
    async with runtime.sessions() as session:
        link = await store.link_of_object(session, job.object_ap_id)
        reply = await _reply(session, job.object_ap_id)
    if job.kind == ForumJobKind.REPLY:
        if reply is None or link is not None:
            return "nothing to post"
        return await _post(runtime, job, reply)
    if link is None or link.deleted or link.origin != PostOrigin.FEDIVERSE:
        return "not in the forum"
    if job.kind == ForumJobKind.EDIT and reply is not None:
        return await _edit(runtime, link, reply)
    if job.kind == ForumJobKind.DELETE:
        return await _delete(runtime, link)
    return "nothing to do"


async def _post(runtime: ForumRuntime, job: ForumJobRow, reply: _Reply) -> str:
    root, row = reply.root, reply.row
    if root is None or root.deleted:
        return "the topic is gone"
    raw = compose(runtime, row, reply.author)
    parent = reply.parent
    reply_to = parent.post_number if parent and parent.post_number > 1 else None
    post = await _already_posted(runtime, root.topic_id, row) if job.attempts > 1 else None
    if post is None:
        post = await runtime.api.create_post(root.topic_id, raw, reply_to)
    async with runtime.sessions.begin() as session:
        session.add(
            ForumPostRow(
                community_id=job.community_id,
                topic_id=post.topic_id,
                post_id=post.id,
                post_number=post.post_number,
                object_ap_id=row.ap_id,
                origin=PostOrigin.FEDIVERSE,
                version=post.version,
                fingerprint=fingerprint(raw),
            )
        )
    return f"posted as post {post.id} in topic {post.topic_id}"


async def _edit(runtime: ForumRuntime, link: ForumPostRow, reply: _Reply) -> str:
    raw = compose(runtime, reply.row, reply.author)
    if fingerprint(raw) == link.fingerprint:
        return "unchanged"
    post = await runtime.api.edit_post(link.post_id, raw, EDIT_REASON)
    async with runtime.sessions.begin() as session:
        current = await store.link_of_object(session, link.object_ap_id)
        if current is not None:
            current.version, current.fingerprint = post.version, fingerprint(raw)
    return f"edited post {link.post_id}"


async def _delete(runtime: ForumRuntime, link: ForumPostRow) -> str:
    with contextlib.suppress(NotFound):  # deleted in the forum already
        await runtime.api.delete_post(link.post_id)
    async with runtime.sessions.begin() as session:
        current = await store.link_of_object(session, link.object_ap_id)
        if current is not None:
            current.deleted = True
    return f"deleted post {link.post_id}"


async def _already_posted(runtime: ForumRuntime, topic_id: int, row: ObjectRow) -> ForumPost | None:
    """After an interrupted attempt: the bot's post carrying this reply, if it got there."""
    original = get_id(row.ap_json.get("url")) or row.ap_id
    bot = runtime.forum.api_username.lower()
    for post in reversed(await runtime.api.tail(topic_id)):
        if post.username.lower() == bot and (original in post.cooked or row.ap_id in post.cooked):
            log.info("reply %s was already posted as post %d", row.ap_id, post.id)
            return post
    return None
