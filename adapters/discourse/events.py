"""Applying a verified webhook event (stored as a job, so a failure is retried).

Events arrive out of order and repeat (a redelivery has a new event id), so an event is a
hint to look, not an instruction: topic events and first posts are applied from the topic as
the API shows it now; a reply's created event is applied from its own body, guarded by the
post's ``version``; edits, deletes and recoveries are checked against the API (an author's
own delete arrives first as an edit to "(post deleted by author)", and only the API says
``user_deleted``).

Scope: only the configured category, by its resolved id (a slug is looked up once; an
unresolvable one stops everything). A post event about a mirrored topic that names another
category sends the topic back through its view, which withdraws it if it moved out.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.discourse import store
from adapters.discourse.client import NotFound
from adapters.discourse.models import PostOrigin
from adapters.discourse.outcome import LIVE, Counts
from adapters.discourse.runtime import ForumRuntime
from adapters.discourse.wire import ForumPost, post_of, webhook_topic_of

log = logging.getLogger(__name__)

TOPIC_EVENTS = frozenset(
    {"topic_created", "topic_edited", "topic_destroyed", "topic_recovered", "topic_revised"}
)
POST_EVENTS = frozenset({"post_created", "post_edited", "post_destroyed", "post_recovered"})
HANDLED = TOPIC_EVENTS | POST_EVENTS | {"ping"}


async def _in_category(runtime: ForumRuntime, category_id: int | None) -> bool:
    """The configured category itself (an unknown category is not it)."""
    return category_id is not None and category_id == (await runtime.api.category()).id


async def apply_event(runtime: ForumRuntime, event: str, body: dict[str, Any]) -> Counts:
    if event in TOPIC_EVENTS and isinstance(body.get("topic"), dict):
        return await _topic_event(runtime, body["topic"])
    if event in POST_EVENTS and isinstance(body.get("post"), dict):
        return await _post_event(runtime, event, post_of(body["post"]))
    return Counts()


async def _about(runtime: ForumRuntime, topic_id: int) -> bool:
    """The category's "About the ... category" topic: its description, not news."""
    return (await runtime.api.category()).about_topic_id == topic_id


async def _known(runtime: ForumRuntime, topic_id: int) -> bool:
    community = await runtime.community()
    async with runtime.sessions() as session:
        state = await store.topic_state(session, community.id, topic_id)
    return state is not None and not state.deleted


async def _topic_event(runtime: ForumRuntime, data: dict[str, Any]) -> Counts:
    topic = webhook_topic_of(data)
    if await _about(runtime, topic.id):
        return Counts()
    if topic.archetype != "regular" or not (
        await _in_category(runtime, topic.category_id) or await _known(runtime, topic.id)
    ):
        return Counts()  # a private message, or a topic of another category
    return await runtime.sync_topic(topic.id, announce=LIVE)


async def _post_event(runtime: ForumRuntime, event: str, post: ForumPost) -> Counts:
    if post.topic_archetype not in (None, "regular"):
        return Counts()
    if post.username.lower() == runtime.forum.api_username.lower():
        log.debug("post %d is the bot's own: not mirrored back", post.id)
        return Counts()
    if await _about(runtime, post.topic_id):
        return Counts()
    community = await runtime.community()
    async with runtime.sessions() as session:
        state = await store.topic_state(session, community.id, post.topic_id)
        link = await store.link_of_post(session, community.id, post.id)
    if link is not None and link.origin == PostOrigin.FEDIVERSE:
        return Counts()  # our echo
    known = state is not None and not state.deleted and state.object_ap_id is not None
    if not await _in_category(runtime, post.category_id):
        if known:  # the topic may have left the category: its view decides, and withdraws it
            return await runtime.sync_topic(post.topic_id, announce=LIVE)
        return Counts()
    if post.post_number == 1 or not known:
        return await runtime.sync_topic(post.topic_id, announce=LIVE)
    if event != "post_created":
        try:  # the order of events says nothing, nor does an edit's body say user_deleted
            post = await runtime.api.post(post.id)
        except NotFound:
            post = _gone(post)
    mirror = await runtime.mirror()
    async with runtime.sessions.begin() as session:
        current = await store.topic_state(session, community.id, post.topic_id)
        if current is None:
            return Counts()
        return await mirror.apply_post(session, current, post, announce=True)


def _gone(post: ForumPost) -> ForumPost:
    return ForumPost(**{**post.__dict__, "deleted_at": post.deleted_at or "deleted"})
