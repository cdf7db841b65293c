"""A community's moderation settings: who is relayed without a hold (its posting
policy), whether first posts wait, the hourly limit per poster, and whether the public
moderation log names the coordinator (``copub community edit``, the console).

The posting policy is part of the Group's actor document (``postingRestrictedToMods``,
which Lemmy reads): when that document changes, the followers get an ``Update`` of the
Group in the same transaction, as for a profile edit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from actors import outbound
from actors.community import POSTING_POLICIES, Community, PostingPolicy, community_to_group
from actors.errors import Invalid
from actors.store import queries
from actors.store.db import AsyncSession
from actors.urls import Urls

log = logging.getLogger(__name__)

POSTS_PER_HOUR_MAX = 10_000
POLICY_WORDS = {
    PostingPolicy.ANYONE: "anyone who mentions the community",
    PostingPolicy.FOLLOWERS: "its followers",
    PostingPolicy.MEMBERS: "followers with a post relayed before",
    PostingPolicy.COORDINATORS: "its coordinators only",
}


class InvalidModerationSettings(Invalid):
    """A posting policy or hourly limit that is not one; ``field`` says which."""


@dataclass(frozen=True)
class ModerationSettings:
    posting_policy: PostingPolicy = PostingPolicy.FOLLOWERS
    hold_first_posts: bool = False
    posts_per_hour: int = 0  # 0: no limit
    modlog_names: bool = False

    @classmethod
    def of(cls, community: Community) -> ModerationSettings:
        return cls(
            community.posting_policy,
            community.hold_first_posts,
            community.posts_per_hour,
            community.modlog_names,
        )

    def changes(self, before: ModerationSettings) -> str:
        """What differs from ``before``, in short words (for the audit log)."""
        parts = []
        if self.posting_policy != before.posting_policy:
            parts.append(f"posting policy {self.posting_policy.value}")
        if self.hold_first_posts != before.hold_first_posts:
            parts.append("first posts held" if self.hold_first_posts else "first posts not held")
        if self.posts_per_hour != before.posts_per_hour:
            limit = self.posts_per_hour
            parts.append(f"at most {limit} posts an hour" if limit else "no hourly limit")
        if self.modlog_names != before.modlog_names:
            parts.append("log names coordinators" if self.modlog_names else "log names no one")
        return ", ".join(parts)


def parse_policy(text: str) -> PostingPolicy:
    try:
        return PostingPolicy.parse(text)
    except ValueError:
        raise InvalidModerationSettings(
            f"the posting policy is one of {', '.join(POSTING_POLICIES)}", field="posting_policy"
        ) from None


def parse_posts_per_hour(text: str | int) -> int:
    """An hourly limit: a whole number from 0 (no limit) to ``POSTS_PER_HOUR_MAX``."""
    try:
        value = int(str(text).strip() or "0")
    except ValueError:
        value = -1
    if not 0 <= value <= POSTS_PER_HOUR_MAX:
        raise InvalidModerationSettings(
            f"posts an hour is a whole number from 0 (no limit) to {POSTS_PER_HOUR_MAX}",
            field="posts_per_hour",
        )
    return value


async def update_moderation_settings(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    wanted: ModerationSettings,
    *,
    now: datetime,
) -> Community:
    """Store ``wanted``; the followers get an ``Update`` of the Group when its actor
    document changed (the posting policy to or from ``coordinators``). Returns the
    community as it is now."""
    parse_posts_per_hour(wanted.posts_per_hour)
    if wanted == ModerationSettings.of(community):
        return community
    updated = await queries.update_moderation_settings(
        session,
        community.id,
        posting_policy=wanted.posting_policy,
        hold_first_posts=wanted.hold_first_posts,
        posts_per_hour=wanted.posts_per_hour,
        modlog_names=wanted.modlog_names,
    )
    if community_to_group(updated, urls) != community_to_group(community, urls):
        activity = outbound.build_update_actor(urls, updated, now)
        await outbound.send_to_followers(
            session, updated, activity, object_id=urls.community(updated.slug), public=False
        )
    log.info(
        "moderation settings changed: %s",
        wanted.changes(ModerationSettings.of(community)),
        extra={"community": updated.slug},
    )
    return updated


def with_changes(
    current: ModerationSettings,
    *,
    posting_policy: str | None = None,
    hold_first_posts: bool | None = None,
    posts_per_hour: int | str | None = None,
    modlog_names: bool | None = None,
) -> ModerationSettings:
    """``current`` with the given parts changed (None: as it is); InvalidModerationSettings
    for a policy or limit that is not one."""
    changed = current
    if posting_policy is not None:
        changed = replace(changed, posting_policy=parse_policy(posting_policy))
    if hold_first_posts is not None:
        changed = replace(changed, hold_first_posts=hold_first_posts)
    if posts_per_hour is not None:
        changed = replace(changed, posts_per_hour=parse_posts_per_hour(posts_per_hour))
    if modlog_names is not None:
        changed = replace(changed, modlog_names=modlog_names)
    return changed
