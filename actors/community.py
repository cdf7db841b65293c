"""Community of Practice <-> ActivityStreams Group."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Any

from actors.content import COPUB_NS
from actors.urls import Urls
from federation.clock import as2_time
from federation.vocab import AS_CONTEXT, JSON, SECURITY_CONTEXT

# Extension terms are defined inline so peers never need to fetch another context.
GROUP_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "lemmy": "https://join-lemmy.org/ns#",
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
        "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
        "webfinger": "https://purl.archive.org/socialweb/webfinger#webfinger",
        # the community's practice: stories, practices (copub's terms), events (Mobilizon's)
        "copub": COPUB_NS,
        "stories": {"@id": "copub:stories", "@type": "@id"},
        "practices": {"@id": "copub:practices", "@type": "@id"},
        "valueCreation": {"@id": "copub:valueCreation", "@type": "@id"},
        "membersOnly": "copub:membersOnly",  # what it publishes is for its followers only
        "mz": "https://joinmobilizon.org/ns#",
        "events": {"@id": "mz:events", "@type": "@id"},
    },
]


class PostingPolicy(StrEnum):
    """Whose posts a community relays without holding them for its coordinators."""

    ANYONE = "anyone"
    FOLLOWERS = "followers"  # accepted followers (the default)
    MEMBERS = "members"  # followers with at least one post relayed before
    COORDINATORS = "coordinators"

    @classmethod
    def parse(cls, text: str) -> PostingPolicy:
        """The policy named ``text`` (``moderators``, its old name, too); ValueError else."""
        text = text.strip().lower()
        return cls.COORDINATORS if text == "moderators" else cls(text)


POSTING_POLICIES = tuple(p.value for p in PostingPolicy)


@dataclass(frozen=True)
class Community:
    """A Community of Practice: its domain (summary), its people and its keys."""

    id: int
    slug: str
    name: str
    summary: str
    closed: bool
    posting_policy: PostingPolicy
    public_key_pem: str
    created_at: datetime
    profile_fields: tuple[tuple[str, str], ...] = ()
    hold_first_posts: bool = False  # a poster's first post waits for a coordinator
    posts_per_hour: int = 0  # relayed posts an actor may make in an hour (0: no limit)
    modlog_names: bool = False  # the public moderation log names the coordinator
    members_only: bool = False  # visibility 'members': only approved followers see items
    gated_items: bool = False  # was members-only: its items of then stay members' alone
    members_until: int | None = None  # their members: followers up to this row (then)
    private_key_pem: str = field(default="", repr=False)


def summary_html(text: str) -> str:
    """The domain statement as HTML paragraphs (plain text in, escaped)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def community_to_group(community: Community, urls: Urls) -> JSON:
    """The actor document Mastodon, Lemmy, Fedify and Discourse read."""
    slug = community.slug
    actor_id = urls.community(slug)
    icon = urls.absolute("/static/icon.png")
    return {
        "@context": GROUP_CONTEXT,
        "id": actor_id,
        "type": "Group",
        "preferredUsername": slug,
        "name": community.name,
        "summary": summary_html(community.summary),
        "url": actor_id,
        "inbox": urls.community_inbox(slug),
        "outbox": urls.community_outbox(slug),
        "followers": urls.community_followers(slug),
        "following": urls.community_following(slug),
        "featured": urls.community_featured(slug),
        "moderators": urls.community_moderators(slug),
        "stories": urls.community_stories(slug),
        "practices": urls.community_practices(slug),
        "valueCreation": urls.community_value(slug),
        "events": urls.community_events(slug),
        "attributedTo": urls.community_moderators(slug),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {
            "id": urls.community_key(slug),
            "owner": actor_id,
            "publicKeyPem": community.public_key_pem,
        },
        "icon": {"type": "Image", "mediaType": "image/png", "url": icon},
        "image": {"type": "Image", "mediaType": "image/png", "url": icon},
        "published": as2_time(community.created_at),
        "manuallyApprovesFollowers": community.closed,
        "discoverable": True,
        "indexable": not community.members_only,  # search may not index members' posts
        # copub's own mark: "manuallyApprovesFollowers" alone is also a closed community's
        # (approved followers, public items); a linked members-only community reads this one
        **({"membersOnly": True} if community.members_only else {}),
        "postingRestrictedToMods": community.posting_policy == PostingPolicy.COORDINATORS,
        "attachment": [
            {"type": "PropertyValue", "name": name, "value": escape(value)}
            for name, value in community.profile_fields
        ],
        "webfinger": urls.handle(slug),
    }
