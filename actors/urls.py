"""The one place that builds and parses copub's IRIs.

Route templates here are used both by the router and to build ids, so the two
can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

COMMUNITY = "/c/{slug}"
COMMUNITY_INBOX = "/c/{slug}/inbox"
COMMUNITY_OUTBOX = "/c/{slug}/outbox"
COMMUNITY_FOLLOWERS = "/c/{slug}/followers"
COMMUNITY_FOLLOWING = "/c/{slug}/following"
COMMUNITY_FEATURED = "/c/{slug}/featured"
COMMUNITY_MODERATORS = "/c/{slug}/moderators"
COMMUNITY_STORIES = "/c/{slug}/stories"
COMMUNITY_PRACTICES = "/c/{slug}/practices"
COMMUNITY_EVENTS = "/c/{slug}/events"
COMMUNITY_TAG = "/c/{slug}/tags/{tag}"
COMMUNITY_REMOTE_FOLLOW = "/c/{slug}/follow"
COMMUNITY_OBJECT = "/c/{slug}/o/{oid}"
COMMUNITY_OBJECT_REPLIES = "/c/{slug}/o/{oid}/replies"
COMMUNITY_OBJECT_CONTEXT = "/c/{slug}/o/{oid}/context"
COMMUNITY_THREAD = "/c/{slug}/thread"  # ?post=URL: a member's post and its conversation
COMMUNITY_OBJECT_PARTICIPANTS = "/c/{slug}/o/{oid}/participants"
COMMUNITY_ACTIVITY = "/c/{slug}/a/{aid}"
COMMUNITY_ATOM = "/c/{slug}/feed.atom"
COMMUNITY_RSS = "/c/{slug}/feed.rss"
COMMUNITY_CALENDAR = "/c/{slug}/events.ics"
EVENT_CALENDAR = "/c/{slug}/o/{oid}/event.ics"
COMMUNITY_NETWORK = "/c/{slug}/network"
COMMUNITY_NETWORK_JSON = "/c/{slug}/network.json"
COMMUNITY_NETWORK_GRAPHML = "/c/{slug}/network.graphml"
COMMUNITY_WHO_KNOWS = "/c/{slug}/who-knows"
COMMUNITY_VALUE = "/c/{slug}/value"  # the value-creation matrix (HTML) or collection (JSON)
COMMUNITY_MODLOG = "/c/{slug}/modlog"
COMMUNITY_DIGEST = "/c/{slug}/digest"  # POST: subscribe to the email digest
COMMUNITY_DIGEST_CONFIRM = "/c/{slug}/digest/confirm"
COMMUNITY_DIGEST_UNSUBSCRIBE = "/c/{slug}/digest/unsubscribe"
COMMUNITY_DIGEST_ATOM = "/c/{slug}/digest.atom"
SHARED_INBOX = "/inbox"
APPLICATION = "/actor"
# the server's moderators, as one Service actor: reports and moderation actions (Lemmy
# takes neither from an Application or a Group)
MODERATION = "/moderation"
MODERATION_OUTBOX = MODERATION + "/outbox"
INDEX = "/"
NODEINFO = "/nodeinfo/2.1"
# the console (actors/web/console): server-rendered pages for admins and coordinators
CONSOLE = "/console"
CONSOLE_SETUP = "/console/setup/{token}"
CONSOLE_INVITE = "/console/invite/{invitation}"
CONSOLE_COMMUNITY = "/console/c/{slug}"

KEY_FRAGMENT = "#main-key"


@dataclass(frozen=True)
class Urls:
    """IRIs of this server, built from its public ``base_url``."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def absolute(self, path: str) -> str:
        return self.base_url + path

    def community(self, slug: str) -> str:
        return self.absolute(COMMUNITY.format(slug=slug))

    def community_key(self, slug: str) -> str:
        return self.community(slug) + KEY_FRAGMENT

    def community_inbox(self, slug: str) -> str:
        return self.absolute(COMMUNITY_INBOX.format(slug=slug))

    def community_outbox(self, slug: str) -> str:
        return self.absolute(COMMUNITY_OUTBOX.format(slug=slug))

    def community_followers(self, slug: str) -> str:
        return self.absolute(COMMUNITY_FOLLOWERS.format(slug=slug))

    def community_following(self, slug: str) -> str:
        return self.absolute(COMMUNITY_FOLLOWING.format(slug=slug))

    def community_featured(self, slug: str) -> str:
        return self.absolute(COMMUNITY_FEATURED.format(slug=slug))

    def community_moderators(self, slug: str) -> str:
        return self.absolute(COMMUNITY_MODERATORS.format(slug=slug))

    def community_stories(self, slug: str) -> str:
        return self.absolute(COMMUNITY_STORIES.format(slug=slug))

    def community_practices(self, slug: str) -> str:
        return self.absolute(COMMUNITY_PRACTICES.format(slug=slug))

    def community_events(self, slug: str) -> str:
        return self.absolute(COMMUNITY_EVENTS.format(slug=slug))

    def community_tag(self, slug: str, tag: str) -> str:
        """A hashtag of the community (``tag`` without '#', already normalised)."""
        return self.absolute(COMMUNITY_TAG.format(slug=slug, tag=quote(tag, safe="")))

    def community_remote_follow(self, slug: str) -> str:
        return self.absolute(COMMUNITY_REMOTE_FOLLOW.format(slug=slug))

    def object(self, slug: str, oid: str) -> str:
        return self.absolute(COMMUNITY_OBJECT.format(slug=slug, oid=oid))

    def object_replies(self, slug: str, oid: str) -> str:
        return self.absolute(COMMUNITY_OBJECT_REPLIES.format(slug=slug, oid=oid))

    def object_context(self, slug: str, oid: str) -> str:
        """The conversation under the item (FEP-7888): its thread's posts."""
        return self.absolute(COMMUNITY_OBJECT_CONTEXT.format(slug=slug, oid=oid))

    def community_thread(self, slug: str, post: str, *, suffix: str = "") -> str:
        """The page of a member's post held here (``post``: its id), with its
        conversation; ``suffix`` a path under it (``/reply``)."""
        path = COMMUNITY_THREAD.format(slug=slug) + suffix
        return self.absolute(f"{path}?post={quote(post, safe='')}")

    def object_participants(self, slug: str, oid: str) -> str:
        return self.absolute(COMMUNITY_OBJECT_PARTICIPANTS.format(slug=slug, oid=oid))

    def activity(self, slug: str, aid: str) -> str:
        return self.absolute(COMMUNITY_ACTIVITY.format(slug=slug, aid=aid))

    def community_atom(self, slug: str) -> str:
        return self.absolute(COMMUNITY_ATOM.format(slug=slug))

    def community_rss(self, slug: str) -> str:
        return self.absolute(COMMUNITY_RSS.format(slug=slug))

    def community_calendar(self, slug: str) -> str:
        return self.absolute(COMMUNITY_CALENDAR.format(slug=slug))

    def community_webcal(self, slug: str) -> str:
        """The calendar feed as a ``webcal:`` link: calendar apps offer to subscribe."""
        return "webcal:" + self.community_calendar(slug).split(":", 1)[1]

    def community_network(self, slug: str) -> str:
        """The page of the community's links, their links, organizations and brokers."""
        return self.absolute(COMMUNITY_NETWORK.format(slug=slug))

    def community_network_json(self, slug: str) -> str:
        return self.absolute(COMMUNITY_NETWORK_JSON.format(slug=slug))

    def community_network_graphml(self, slug: str) -> str:
        """The network as GraphML, for network analysis tools."""
        return self.absolute(COMMUNITY_NETWORK_GRAPHML.format(slug=slug))

    def community_who_knows(self, slug: str) -> str:
        """Who knows about what: the members around each hashtag of the practices."""
        return self.absolute(COMMUNITY_WHO_KNOWS.format(slug=slug))

    def community_value(self, slug: str) -> str:
        """The community's value-creation matrix (HTML), or its stories and indicators as
        a collection (JSON): the Group's ``valueCreation``."""
        return self.absolute(COMMUNITY_VALUE.format(slug=slug))

    def community_modlog(self, slug: str) -> str:
        """The community's public moderation log (HTML, or JSON by content negotiation)."""
        return self.absolute(COMMUNITY_MODLOG.format(slug=slug))

    def community_digest(self, slug: str) -> str:
        """Where the subscribe form posts (the email digest)."""
        return self.absolute(COMMUNITY_DIGEST.format(slug=slug))

    def digest_confirm(self, slug: str, token: str) -> str:
        """The link of a confirmation email (``token``: actors.digests.tokens)."""
        path = COMMUNITY_DIGEST_CONFIRM.format(slug=slug)
        return self.absolute(f"{path}?token={quote(token, safe='.')}")

    def digest_unsubscribe(self, slug: str, token: str) -> str:
        """The unsubscribe link of a digest, and its List-Unsubscribe target."""
        path = COMMUNITY_DIGEST_UNSUBSCRIBE.format(slug=slug)
        return self.absolute(f"{path}?token={quote(token, safe='.')}")

    def community_digest_atom(self, slug: str) -> str:
        """The community's digests as an Atom feed."""
        return self.absolute(COMMUNITY_DIGEST_ATOM.format(slug=slug))

    def event_calendar(self, slug: str, oid: str) -> str:
        return self.absolute(EVENT_CALENDAR.format(slug=slug, oid=oid))

    def shared_inbox(self) -> str:
        return self.absolute(SHARED_INBOX)

    def application(self) -> str:
        return self.absolute(APPLICATION)

    def application_key(self) -> str:
        return self.application() + KEY_FRAGMENT

    def moderation(self) -> str:
        return self.absolute(MODERATION)

    def moderation_key(self) -> str:
        return self.moderation() + KEY_FRAGMENT

    def moderation_outbox(self) -> str:
        return self.absolute(MODERATION_OUTBOX)

    def nodeinfo(self) -> str:
        return self.absolute(NODEINFO)

    def index(self) -> str:
        return self.absolute(INDEX)

    def console(self) -> str:
        return self.absolute(CONSOLE)

    def console_setup(self, token: str) -> str:
        """A one-time link to set an account's password (the first admin, a reset)."""
        return self.absolute(CONSOLE_SETUP.format(token=token))

    def console_invite(self, token: str) -> str:
        """A one-time invitation to coordinate a community."""
        return self.absolute(CONSOLE_INVITE.format(invitation=token))

    def console_community(self, slug: str) -> str:
        """The community's home in the console."""
        return self.absolute(CONSOLE_COMMUNITY.format(slug=slug))

    def handle(self, slug: str) -> str:
        return f"{slug}@{self.domain}"

    def is_local(self, iri: str) -> bool:
        return iri == self.base_url or iri.startswith(self.base_url + "/")

    def community_slug_of(self, iri: str) -> str | None:
        """The slug if ``iri`` is exactly one of our community actor ids."""
        prefix = self.absolute("/c/")
        if not iri.startswith(prefix):
            return None
        rest = iri[len(prefix) :].split("#", 1)[0]
        return rest if rest and "/" not in rest and "?" not in rest else None
