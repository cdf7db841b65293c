"""One connected forum at run time: its config, API client, database and community.

Shared by the server (webhooks, the job worker, the poller) and the CLI (check, sync).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from actors import errors
from actors.community import Community
from actors.settings import Settings
from actors.store import queries
from actors.store.db import AsyncSession, async_sessionmaker
from actors.urls import Urls
from adapters.discourse.api import ForumApi
from adapters.discourse.client import DiscourseClient, NotFound
from adapters.discourse.config import ForumConfig
from adapters.discourse.outcome import Announce, Counts
from adapters.discourse.sync import Mirror
from adapters.discourse.wire import ForumPost, ForumTopic
from federation.ssrf import AddressPolicy

log = logging.getLogger(__name__)


class NoCommunity(errors.NotFound):
    """The configured community does not exist (yet) in the database."""


class RestrictedCategory(errors.Forbidden):
    """A read-restricted forum category configured for a community that is not
    members-only: its topics would become public (issue 18)."""


def make_client(forum: ForumConfig, settings: Settings, **options: float) -> DiscourseClient:
    policy = AddressPolicy.build(
        allow_private=settings.federation.allow_private_addresses,
        allowed_networks=forum.allowed_networks,
    )
    return DiscourseClient(
        forum.base_url,
        forum.api_key,
        forum.api_username,
        user_agent=settings.federation.user_agent,
        policy=policy,
        timeout_seconds=forum.timeout_seconds,
        # a 5xx or a network error is retried at once a few times (0.5, 1, 2 s), then the
        # caller's own retry (the job queue, or the next run) takes over
        backoff_seconds=min(0.5, forum.retry_seconds),
        **options,  # type: ignore[arg-type]
    )


@dataclass
class ForumRuntime:
    forum: ForumConfig
    client: DiscourseClient
    urls: Urls
    sessions: async_sessionmaker[AsyncSession]
    api: ForumApi = field(init=False)
    _community: Community | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.api = ForumApi(self.forum, self.client)

    @property
    def slug(self) -> str:
        return self.forum.community

    async def community(self) -> Community:
        if self._community is None:
            async with self.sessions() as session:
                found = await queries.get_community(session, self.slug)
            if found is None:
                raise NoCommunity(
                    f"community {self.slug!r} does not exist: create it with "
                    f"`copub community create {self.slug} --name ...`"
                )
            self._community = found
        return self._community

    async def mirror(self) -> Mirror:
        """Applies forum state; resolves the category first (UnknownCategory: nothing is
        applied, so nothing is published; RestrictedCategory likewise: a read-restricted
        category is mirrored into a members-only community only)."""
        category = await self.api.category()
        community = await self.community()
        if category.read_restricted and not community.members_only:
            raise RestrictedCategory(
                f"category {category.name!r} is read-restricted on the forum: it is mirrored "
                f"only into a members-only community (`copub community edit {self.slug} "
                "--visibility members`), never into a public one"
            )
        return Mirror(self.forum, self.urls, community, category.id)

    async def fetch(self, topic_id: int) -> tuple[ForumTopic, list[ForumPost]] | None:
        """A topic with all its posts; None when it is gone or we may not see it any more."""
        try:
            return await self.api.topic(topic_id)
        except NotFound:
            return None

    async def apply(
        self,
        session: AsyncSession,
        mirror: Mirror,
        topic_id: int,
        fetched: tuple[ForumTopic, list[ForumPost]] | None,
        *,
        announce: Announce,
        bumped_at: str = "",
    ) -> Counts:
        if fetched is None:
            return await mirror.delete_topic(session, topic_id)
        topic, posts = fetched
        return await mirror.apply_topic(
            session, topic, posts, announce=announce, complete=True, bumped_at=bumped_at
        )

    async def sync_topic(self, topic_id: int, *, announce: Announce, bumped_at: str = "") -> Counts:
        """Fetch a topic and apply it (a topic gone from the forum is deleted)."""
        mirror = await self.mirror()
        fetched = await self.fetch(topic_id)
        async with self.sessions.begin() as session:
            return await self.apply(
                session, mirror, topic_id, fetched, announce=announce, bumped_at=bumped_at
            )

    def webhook_path(self) -> str:
        return f"/adapters/discourse/{self.slug}/webhook"
