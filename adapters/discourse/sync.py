"""Forum state -> the community's items, idempotently.

Whatever the source (backfill, webhook, poll), a topic or post is *applied*: compared with
what the mapping table says we published (by post id, ``version`` and a fingerprint of what
we would publish) and only a difference produces an activity. Applying the same state twice,
or an older state after a newer one, changes nothing. Posts the adapter itself wrote (by the
bot, or linked with origin ``fediverse``) are never mirrored back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from actors.community import Community
from actors.items import (
    ObjectRow,
    Revision,
    Send,
    find_item,
    new_token,
    participant_count,
    revise_item,
    store_item,
    withdraw_item,
)
from actors.store.db import AsyncSession
from actors.urls import Urls
from adapters.discourse import mapping, objects, store
from adapters.discourse.config import ForumConfig
from adapters.discourse.models import ForumPostRow, ForumTopicRow, PostOrigin
from adapters.discourse.outcome import Announce, Counts
from adapters.discourse.wire import ForumPost, ForumTopic
from federation.clock import as2_time, parse_iso_time, utcnow

log = logging.getLogger(__name__)


class Mirror:
    def __init__(
        self, forum: ForumConfig, urls: Urls, community: Community, category_id: int
    ) -> None:
        self.forum = forum
        self.urls = urls
        self.community = community
        self.category_id = category_id  # resolved (a slug is looked up): never "any"

    def _send(self, fan_out: bool) -> Send:
        """Followers get the activity (``fan_out``), or only the outbox records it (a
        backfilled topic is history, not news)."""
        return Send(self.urls, self.community, fan_out=fan_out)

    def _new_object_id(self) -> str:
        return self.urls.object(self.community.slug, new_token())

    def _ours(self, post: ForumPost, link: ForumPostRow | None) -> bool:
        """Written by the adapter (a fediverse reply): never mirrored back."""
        by_bot = post.username.lower() == self.forum.api_username.lower()
        return by_bot or (link is not None and link.origin == PostOrigin.FEDIVERSE)

    def in_scope(self, topic: ForumTopic) -> bool:
        """A regular topic of the configured category itself (not of another, not of a
        subcategory, not of an unknown one)."""
        return topic.archetype == "regular" and topic.category_id == self.category_id

    async def apply_topic(
        self,
        session: AsyncSession,
        topic: ForumTopic,
        posts: Sequence[ForumPost],
        *,
        announce: Announce,
        complete: bool,
        bumped_at: str = "",
    ) -> Counts:
        """Apply a topic and ``posts`` of it (all of them when ``complete``: then linked
        posts missing from the topic's stream are deleted)."""
        links = {
            link.post_id: link
            for link in await store.links_of_topic(session, self.community.id, topic.id)
        }
        state = await store.topic_state(session, self.community.id, topic.id)
        first = next((p for p in posts if p.post_number == 1), None)
        if not self.in_scope(topic) or topic.deleted_at or first is None or first.withdrawn:
            return await self.delete_topic(session, topic.id)
        counts = Counts()
        item = mapping.topic_item(self.forum, topic, first)
        known_before = first.id in links and not links[first.id].deleted
        root = await self._apply_root(session, topic, first, item, links, announce, counts)
        by_number = {link.post_number: link for link in links.values()}
        replies = announce.replies and known_before
        for post in sorted(posts, key=lambda p: p.post_number):
            if post.post_number > 1:
                await self._apply_reply(
                    session, topic.slug, post, root, links, by_number, replies, counts
                )
        if complete:
            present = set(topic.stream)
            for link in list(links.values()):
                if (
                    link.post_id not in present
                    and link.origin == PostOrigin.FORUM
                    and not link.deleted
                ):
                    await self._delete(session, link, counts)
        self._remember(session, state, topic, item, root, bumped_at)
        return counts

    def _remember(
        self,
        session: AsyncSession,
        state: ForumTopicRow | None,
        topic: ForumTopic,
        item: mapping.TopicItem,
        root: str,
        bumped_at: str,
    ) -> None:
        if state is None:
            state = ForumTopicRow(community_id=self.community.id, topic_id=topic.id)
            session.add(state)
        state.slug = topic.slug
        state.title = topic.title[:500]
        state.kind = item.kind
        state.tags = list(topic.tags)
        state.object_ap_id = root
        state.highest_post_number = topic.highest_post_number
        state.bumped_at = bumped_at
        state.deleted = False
        state.synced_at = utcnow()

    async def _apply_root(
        self,
        session: AsyncSession,
        topic: ForumTopic,
        first: ForumPost,
        item: mapping.TopicItem,
        links: dict[int, ForumPostRow],
        announce: Announce,
        counts: Counts,
    ) -> str:
        link = links.get(first.id)
        row = await find_item(session, link.object_ap_id) if link else None
        editor = f"{self.forum.base_url}/u/{first.username}"
        if link is not None and row is not None and not link.deleted and row.kind == item.kind:
            if _newer(first.version, item.fingerprint, link):
                await self._revise_root(session, row, item, editor, fan_out=link.announced)
                _stamp(link, first.version, item.fingerprint)
                counts.updated += 1
            else:
                counts.unchanged += 1
            return row.ap_id
        if link is not None and not link.deleted:  # the kind changed: a new object replaces it
            await self._delete(session, link, counts)
        published = parse_iso_time(topic.created_at) or utcnow()
        object_id = self._new_object_id()
        obj = objects.item_object(self.forum, self.urls, object_id, item, published=published)
        await store_item(
            session,
            objects.topic_as_item(self.urls, self.community, item, obj, published=published),
            send=self._send(announce.topics),
            revision=Revision(editor, "posted on the forum", utcnow()),
        )
        links[first.id] = await self._link(
            session, link, first, object_id, item.fingerprint, announced=announce.topics
        )
        counts.created += 1
        return object_id

    async def _revise_root(
        self,
        session: AsyncSession,
        row: ObjectRow,
        item: mapping.TopicItem,
        editor: str,
        *,
        fan_out: bool,
    ) -> None:
        now = utcnow()
        obj = objects.item_object(
            self.forum,
            self.urls,
            row.ap_id,
            item,
            published=row.published,
            updated=now,
            participants=await participant_count(session, row),
        )
        await revise_item(
            session,
            row,
            objects.topic_as_item(
                self.urls, self.community, item, obj, published=row.published, updated=now
            ),
            send=self._send(fan_out),
            revision=Revision(editor, "edited on the forum", now),
        )

    async def _apply_reply(
        self,
        session: AsyncSession,
        topic_slug: str,
        post: ForumPost,
        root: str,
        links: dict[int, ForumPostRow],
        by_number: dict[int, ForumPostRow],
        announce: bool,
        counts: Counts,
    ) -> None:
        link = links.get(post.id)
        if self._ours(post, link):
            return
        if post.withdrawn or not post.is_regular:
            if link is not None and not link.deleted:
                await self._delete(session, link, counts)
            return
        fp = mapping.fingerprint(post.cooked, post.username, post.name)
        if link is not None and not link.deleted:
            if not _newer(post.version, fp, link):
                counts.unchanged += 1
                return
            row = await find_item(session, link.object_ap_id)
            if row is not None and row.deleted_at is None:
                now = utcnow()
                obj = dict(row.ap_json)
                obj.update(content=mapping.reply_html(post), updated=as2_time(now))
                edited = objects.reply_as_item(
                    self.urls, self.community, obj, published=row.published, updated=now
                )
                await revise_item(session, row, edited, send=self._send(link.announced))
                _stamp(link, post.version, fp)
                counts.updated += 1
                return
        parent_link = by_number.get(post.reply_to_post_number or 0)
        parent = parent_link.object_ap_id if parent_link and not parent_link.deleted else root
        published = parse_iso_time(post.created_at) or utcnow()
        object_id = self._new_object_id()
        obj = objects.reply_object(
            self.forum,
            self.urls,
            object_id,
            post,
            in_reply_to=parent,
            topic_slug=topic_slug,
            published=published,
        )
        reply = objects.reply_as_item(
            self.urls,
            self.community,
            obj,
            published=published,
            in_reply_to=parent,
            thread_root=root,
        )
        await store_item(session, reply, send=self._send(announce))
        new_link = await self._link(session, link, post, object_id, fp, announced=announce)
        links[post.id] = by_number[post.post_number] = new_link
        counts.created += 1

    async def _link(
        self,
        session: AsyncSession,
        link: ForumPostRow | None,
        post: ForumPost,
        object_id: str,
        fp: str,
        *,
        announced: bool,
    ) -> ForumPostRow:
        if link is None:
            link = ForumPostRow(
                community_id=self.community.id,
                topic_id=post.topic_id,
                post_id=post.id,
                origin=PostOrigin.FORUM,
                created_at=utcnow(),
            )
            session.add(link)
        link.post_number = post.post_number
        link.object_ap_id = object_id
        link.deleted = False
        link.announced = announced
        _stamp(link, post.version, fp)
        return link

    async def _delete(self, session: AsyncSession, link: ForumPostRow, counts: Counts) -> None:
        row = await find_item(session, link.object_ap_id)
        if row is not None and row.deleted_at is None:
            await withdraw_item(session, row, send=self._send(link.announced))
        link.deleted = True
        link.updated_at = utcnow()
        counts.deleted += 1

    async def apply_post(
        self, session: AsyncSession, topic: ForumTopicRow, post: ForumPost, *, announce: bool
    ) -> Counts:
        """A reply from a webhook, in a topic already mirrored."""
        counts = Counts()
        if topic.object_ap_id is None or topic.deleted:
            return counts
        links = {
            link.post_id: link
            for link in await store.links_of_topic(session, self.community.id, topic.topic_id)
        }
        by_number = {link.post_number: link for link in links.values()}
        await self._apply_reply(
            session, topic.slug, post, topic.object_ap_id, links, by_number, announce, counts
        )
        return counts

    async def delete_topic(self, session: AsyncSession, topic_id: int) -> Counts:
        """The topic is gone (deleted, moved out of the category, made private)."""
        counts = Counts()
        for link in await store.links_of_topic(session, self.community.id, topic_id):
            if link.origin == PostOrigin.FORUM and not link.deleted:
                await self._delete(session, link, counts)
        state = await store.topic_state(session, self.community.id, topic_id)
        if state is not None:
            state.deleted = True
            state.bumped_at = ""
        return counts


def _newer(version: int, fp: str, link: ForumPostRow) -> bool:
    """A later revision, or the same one published differently (a title or tag edit)."""
    return version > link.version or (version == link.version and fp != link.fingerprint)


def _stamp(link: ForumPostRow, version: int, fp: str) -> None:
    link.version = max(link.version or 0, version)
    link.fingerprint = fp
    link.updated_at = utcnow()
