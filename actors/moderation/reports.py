"""Reports: ``Flag`` activities other servers send us, and those our coordinators send.

**In.** Mastodon, GoToSocial and Misskey send a report from their instance actor, Lemmy and
Mbin from the person who reported; ``object`` is one URL, an object or a list (Mastodon:
the account, then its posts); the reason is ``content`` (Mastodon, GoToSocial, Misskey) or
``summary`` (Lemmy; Mbin sends both). :func:`read_flag` reads every shape; each Flag is one
row in ONE queue: the community whose inbox it came to, else the community an object or
the addressing names, else the server's (no community). A report about a post we do not
have is kept with its URL. The same Flag twice is one row (its activity id is unique).

**Out.** :func:`send_report`: a coordinator reports a remote account or post to its
server. The ``Flag`` is the server's moderation actor's (``/moderation``, a ``Service``
with the server's key: Lemmy takes a report only from a Person, Service or Organization,
not from the Application actor, tests/fixtures/activities/moderation/NOTES.md), so the
coordinator stays anonymous, as GoToSocial's and Misskey's instance actors keep theirs;
``object`` is the account, then the post (what Mastodon reads), ``to`` the post's
community when we know it (what Lemmy dereferences), the reason in ``content`` and in
``summary``. It goes through the delivery queue like any activity (signed with the
server's key under the moderation actor's key id, actors/store/jobqueue.py), with a
``reported`` line in the community's log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from actors import outbound, signing
from actors.community import Community
from actors.errors import Invalid, NotFound
from actors.html import plain_text
from actors.moderation.modlog import Moderator, record
from actors.remote import Remote
from actors.store import queries, social
from actors.store import reports as store
from actors.store.db import AsyncSession
from actors.store.models_moderation import ModAction, ReportDirection, ReportRow, ReportState
from actors.urls import Urls
from federation.clock import utcnow
from federation.intake import AUDIENCE_KEYS, DEFAULT_LIMITS, Limits, bounded, object_urls, safe_url
from federation.vocab import JSON, actor_of, get_id, ids

log = logging.getLogger(__name__)

# The longest reason a coordinator may send: what Mastodon and Lemmy take from their own
# users (Mastodon's Report::COMMENT_SIZE_LIMIT; Lemmy's report reason check).
REASON_OUT_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INLINE_URL = re.compile(r"https?://[^\s<>\"']+")


class NoSuchReport(NotFound):
    """No report has this number (in this queue)."""


class InvalidReport(Invalid):
    """A report copub cannot read or send."""


@dataclass(frozen=True)
class Report:
    """A report as the CLI and the console show it."""

    id: int
    community_id: int | None  # None: the server's queue
    direction: ReportDirection
    activity_id: str
    reporter: str  # in: the actor that sent the Flag; out: the coordinator (never sent)
    objects: tuple[str, ...]  # the URLs reported
    content: str  # the reason, plain text
    state: ReportState
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: ReportRow) -> Report:
        return cls(
            id=row.id,
            community_id=row.community_id,
            direction=row.direction,
            activity_id=row.activity_id,
            reporter=row.reporter,
            objects=tuple(str(o) for o in row.objects),
            content=row.content,
            state=row.state,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )


# -- in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingFlag:
    """What a received ``Flag`` says, checked (federation/intake.py) and bounded."""

    activity_id: str
    reporter: str
    objects: tuple[str, ...]  # safe URLs, de-duplicated, at most [limits] max_list_items
    content: str  # plain text, at most [limits] max_report_chars
    addressed: tuple[str, ...]  # to, cc, audience


def report_text(raw: object, cap: int) -> str:
    """A remote reason as plain text: tags gone, entities read, no control characters,
    whitespace collapsed, at most ``cap`` characters."""
    if not isinstance(raw, str):
        return ""
    return plain_text(_CONTROL.sub(" ", raw[: cap * 8]), limit=cap)


def read_flag(activity: JSON, urls: Urls, limits: Limits = DEFAULT_LIMITS) -> IncomingFlag:
    """The report a ``Flag`` makes; InvalidReport when it names nothing we can keep.

    Misskey writes the reported notes' URLs in ``content`` (``Note: URL``) and only the
    account in ``object``: URLs of this server found there are reported too."""
    content = activity.get("content")
    if not isinstance(content, str) or not content.strip():
        content = activity.get("summary")
    reason = report_text(content, limits.max_report_chars)
    cap = limits.max_list_items
    objects = object_urls(activity.get("object"), cap, max_length=limits.max_url_length)
    for found in _INLINE_URL.findall(reason)[:cap]:
        url = safe_url(found.rstrip(".,;:!?)]"), max_length=limits.max_url_length)
        if url is not None and urls.is_local(url) and url not in objects and len(objects) < cap:
            objects.append(url)
    if not objects:
        raise InvalidReport("the Flag names no http(s) URL of an account or a post")
    addressed = [
        i
        for key in AUDIENCE_KEYS
        for i in ids(bounded(activity.get(key), limits.max_audience))
        if safe_url(i, max_length=limits.max_url_length)
    ]
    return IncomingFlag(
        activity_id=str(activity["id"]),
        reporter=str(actor_of(activity)),
        objects=tuple(objects),
        content=reason,
        addressed=tuple(dict.fromkeys(addressed)),
    )


def _slug_in(urls: Urls, url: str) -> str | None:
    """The community a URL of this server belongs to (its actor, or anything under
    ``/c/SLUG/``), else None."""
    slug = urls.community_slug_of(url)
    if slug is not None:
        return slug
    prefix = urls.absolute("/c/")
    if url.startswith(prefix):
        first = url[len(prefix) :].split("/", 1)[0].split("#", 1)[0].split("?", 1)[0]
        return first or None
    return None


async def queue_for(
    session: AsyncSession, urls: Urls, flag: IncomingFlag, recipient_slug: str | None = None
) -> Community | None:
    """The community whose queue a report goes to: the inbox it came to, else the first
    community an object belongs to (ours, or a post it relayed), else the first one the
    Flag is addressed to; None: the server's queue."""
    if recipient_slug is not None:
        community = await queries.get_community(session, recipient_slug)
        if community is not None:
            return community
    for url in flag.objects:
        slug = _slug_in(urls, url)
        if slug is not None:
            community = await queries.get_community(session, slug)
            if community is not None:
                return community
            continue
        stored = await social.get_object(session, url)
        if stored is not None:
            return await queries.get_community_by_id(session, stored.community_id)
    for url in flag.addressed:
        slug = urls.community_slug_of(url)
        community = await queries.get_community(session, slug) if slug else None
        if community is not None:
            return community
    return None


async def receive_flag(
    session: AsyncSession, flag: IncomingFlag, community: Community | None
) -> Report | None:
    """Keep a received report in ``community``'s queue (None: the server's); None when
    this Flag is kept already."""
    row = ReportRow(
        community_id=community.id if community is not None else None,
        direction=ReportDirection.IN,
        activity_id=flag.activity_id,
        reporter=flag.reporter,
        objects=list(flag.objects),
        content=flag.content,
    )
    if not await store.add_report(session, row):
        return None
    return Report.of(row)


# -- the queues ----------------------------------------------------------------------------


async def open_reports(
    session: AsyncSession, community_id: int | None, limit: int = 50, offset: int = 0
) -> list[Report]:
    """Reports received and not resolved in a community's queue (None: the server's),
    the oldest first."""
    rows = await store.list_reports(
        session, community_id, direction=ReportDirection.IN, limit=limit, offset=offset
    )
    return [Report.of(row) for row in rows]


async def all_reports(
    session: AsyncSession, community_id: int | None, limit: int = 50, offset: int = 0
) -> list[Report]:
    """Every report of a queue, received and sent, open and resolved, the oldest first."""
    rows = await store.list_reports(
        session, community_id, states=tuple(ReportState), limit=limit, offset=offset
    )
    return [Report.of(row) for row in rows]


async def count_open(session: AsyncSession, community_id: int | None) -> int:
    return await store.count_open(session, community_id)


async def get_report(session: AsyncSession, report_id: int) -> Report:
    row = await store.get_report(session, report_id)
    if row is None:
        raise NoSuchReport(f"no report #{report_id}")
    return Report.of(row)


async def resolve(
    session: AsyncSession,
    report_id: int,
    by: Moderator,
    *,
    queue: int | Literal["any"] | None = "any",
) -> Report:
    """Mark report ``report_id`` resolved by ``by`` (already resolved: kept as it was).
    ``queue``: the community id whose queue it must be in (None: the server's); "any" (the
    operator): whichever queue it is in."""
    row = await store.get_report(session, report_id)
    in_queue = queue == "any" or (row is not None and row.community_id == queue)
    if row is None or not in_queue:
        raise NoSuchReport(f"no report #{report_id} in this queue")
    if row.state != ReportState.RESOLVED:
        store.mark_resolved(row, by=by.name or by.role, when=utcnow())
        await session.flush()
    return Report.of(row)


# -- out -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a report out is about, and where it goes."""

    actor: str  # the reported account
    post: str | None  # the reported post, if it is a post
    audience: str | None  # the Group the post was sent to (Lemmy's community), if known
    inbox: str  # the account's server: its shared inbox, else its own

    @property
    def reported(self) -> list[str]:
        """``object`` as Mastodon reads it: the account first, then the post."""
        return [self.actor, *([self.post] if self.post else [])]

    @property
    def to(self) -> str:
        """The one recipient Lemmy dereferences (a community or a site): the post's Group
        if known, else the account (Mastodon and GoToSocial do not read ``to``)."""
        return self.audience or self.actor


def _remote_url(urls: Urls, url: str) -> str:
    checked = safe_url(url.strip())
    if checked is None:
        raise InvalidReport(f"{url!r} is not an http(s) URL", field="url")
    if urls.is_local(checked):
        raise InvalidReport(
            f"{checked} is on this server: report remote accounts and posts only", field="url"
        )
    return checked


def _audience(urls: Urls, document: JSON) -> str | None:
    """The Group a post was sent to, as Lemmy and Mbin say (``audience``), unless ours."""
    group = safe_url(get_id(document.get("audience")))
    return group if group is not None and not urls.is_local(group) else None


async def _inbox_of(session: AsyncSession, actor_id: str) -> str | None:
    row = await social.get_remote_actor(session, actor_id)
    return (row.shared_inbox or row.inbox) if row is not None else None


async def known_target(session: AsyncSession, urls: Urls, url: str) -> Target:
    """The target of a report from what copub keeps: a post it relayed, or an actor it
    knows; NoSuchReport (404) when it knows neither (:func:`fetch_target` asks)."""
    url = _remote_url(urls, url)
    stored = await social.get_object(session, url)
    if stored is not None and not stored.local:
        inbox = await _inbox_of(session, stored.attributed_to)
        if inbox is not None:
            return Target(stored.attributed_to, url, _audience(urls, stored.ap_json), inbox)
    inbox = await _inbox_of(session, url)
    if inbox is not None:
        return Target(url, None, None, inbox)
    raise NoSuchReport(f"copub knows no account or post at {url} yet")


async def fetch_target(remote: Remote, urls: Urls, url: str) -> Target:
    """The target of a report, fetched (signed by the Application actor): an actor, or an
    object and its author (who is remembered)."""
    url = _remote_url(urls, url)
    document = await remote.fetch_object(url)
    if get_id(document.get("inbox")) is not None:
        actor = await remote.lookup_actor(url)
        return Target(actor.ap_id, None, None, actor.shared_inbox or actor.inbox)
    author = safe_url(get_id(document.get("attributedTo")) or actor_of(document))
    if author is None:
        raise InvalidReport(f"{url} is neither an account nor a post with an author")
    actor = await remote.lookup_actor(author)
    post = safe_url(get_id(document)) or url
    return Target(actor.ap_id, post, _audience(urls, document), actor.shared_inbox or actor.inbox)


def clean_reason_out(reason: str) -> str:
    """The reason a coordinator gives, as sent: one line, required, at most
    :data:`REASON_OUT_MAX` characters."""
    text = " ".join(_CONTROL.sub(" ", reason or "").split())
    if not text:
        raise InvalidReport("say why you report it (the reason is sent)", field="reason")
    if len(text) > REASON_OUT_MAX:
        raise InvalidReport(
            f"the reason is {len(text)} characters long; at most {REASON_OUT_MAX} are sent",
            field="reason",
        )
    return text


async def _ensure_server_key(session: AsyncSession) -> None:
    """The server's key, which signs the moderation actor's Flag, exists (made on first
    use; the delivery queue reads it)."""
    if await queries.get_server_key(session) is None:
        private_pem, public_pem = signing.new_key_pair()
        await queries.insert_server_key(session, private_pem, public_pem)


async def send_report(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    target_url: str,
    reason: str,
    by: Moderator,
    *,
    target: Target | None = None,
) -> Report:
    """Report a remote account or post (``target_url``) to its server, for ``community``:
    the moderation actor's ``Flag`` queued for delivery, the report kept (out), the log's
    ``reported`` line, in the caller's transaction. ``target``: as :func:`fetch_target`
    found it; else from what copub keeps (:func:`known_target`)."""
    text = clean_reason_out(reason)
    target = target or await known_target(session, urls, target_url)
    await _ensure_server_key(session)
    flag = outbound.build_flag(urls, target.reported, text, target.to)
    await outbound.send_to_inbox(session, community, flag, target.inbox)
    row = ReportRow(
        community_id=community.id,
        direction=ReportDirection.OUT,
        activity_id=flag["id"],
        reporter=(by.name or by.role)[:2048],
        objects=target.reported,
        content=text,
    )
    await store.add_report(session, row)
    await record(session, community, ModAction.REPORTED, target.post or target.actor, by, text)
    log.info(
        "reported %s to %s",
        target.post or target.actor,
        target.inbox,
        extra={"community": community.slug, "activity_id": flag["id"]},
    )
    return Report.of(row)
