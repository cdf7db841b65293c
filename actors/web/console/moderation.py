"""The Moderation page of a community (coordinators and admins): the posts held for
review (approve, reject, reject all), the community's moderation settings and its word and
link filters (moderation_rules.py); removals, bans and reports join it as sections.

The page is made of sections. Each is a :class:`Section`: a title, a template (included
with the page's context and ``section``, what its ``load`` returned) and a loader; a
module adds its own with ``add_section(app, Section(...))`` from its ``setup_routes``
and puts its forms' routes under ``MODERATION``. Every action goes through
``actors.moderation`` (what ``copub held`` and ``copub filters`` call) as a
:class:`Moderator` named by the signed-in account, and is audited in its transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors.community import Community
from actors.html import plain_text
from actors.moderation import holds
from actors.moderation.modlog import REASON_MAX, Moderator
from actors.store import moderation as store
from actors.store import participation
from actors.store.db import AsyncSession
from actors.store.models_moderation import HeldPostRow
from actors.urls import CONSOLE_COMMUNITY
from actors.web.console.account import when
from actors.web.console.auth import Signed, audit, redirect, render, require_community
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS
from actors.web.present import Person, person

MODERATION = CONSOLE_COMMUNITY + "/moderation"
HELD = MODERATION + "/held"
HELD_SHOWN = 50  # held posts listed, the oldest first
EXCERPT = 300  # characters of a held post's text
DONE = {
    "approved": "Approved: the post is relayed to the followers.",
    "rejected": "Rejected: the post is not relayed.",
    "rejected_told": "Rejected: the post is not relayed, and its author is sent a Reject.",
    "rejected_all": "Every held post was rejected.",
    "saved": "Saved.",
    "unchanged": "Nothing changed.",
    "filter_added": "Filter added: posts with it are held for review.",
    "filter_known": "That filter was there already.",
    "filter_removed": "Filter removed.",
    # reports (moderation_reports.py)
    "resolved": "Report resolved: it leaves the queue.",
    "reported": "Reported: the server's moderation actor sends the report; you are not named.",
    # removals, locks and bans (moderation_actions.py)
    "removed": "Removed: the post is hidden, and the followers' servers are told.",
    "not_shown": "That post is not shown (removed or withdrawn already); nothing changed.",
    "restored": "Restored: the post shows again, and the followers' servers are told.",
    "not_removed": "That post was not removed; nothing changed.",
    "locked": "Locked: replies in the thread are no longer relayed.",
    "locked_already": "That thread was locked already; nothing changed.",
    "unlocked": "Unlocked: replies in the thread are relayed again.",
    "unlocked_already": "That thread was not locked; nothing changed.",
    "banned": "Banned: no longer a follower, and their posts are not relayed.",
    "banned_removed": "Banned, and their posts in the community removed.",
    "banned_already": "That actor was banned already; nothing was sent again.",
    "banned_already_removed": "That actor was banned already; their posts still shown are removed.",
    "unbanned": "Ban lifted.",
    "not_banned": "That actor was not banned; nothing changed.",
}

SectionLoader = Callable[[web.Request, AsyncSession, Community, Signed], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Section:
    """A part of the Moderation page: ``key`` (its anchor, ``#key``), ``title`` (its
    heading), ``template`` (a console template), ``load`` (what the template gets as
    ``section``), ``order`` (its place: held 10, reports 20, removals and bans 30,
    settings 40, filters 50)."""

    key: str
    title: str
    template: str
    load: SectionLoader
    order: int = 100


SECTIONS = web.AppKey("moderation_sections", list[Section])


def add_section(app: web.Application, section: Section) -> None:
    """Put a section on every community's Moderation page."""
    if SECTIONS not in app:
        app[SECTIONS] = []
    app[SECTIONS].append(section)
    app[SECTIONS].sort(key=lambda s: s.order)


def moderation_path(slug: str, *, done: str = "", anchor: str = "") -> str:
    path = MODERATION.format(slug=slug) + (f"?done={done}" if done else "")
    return path + (f"#{anchor}" if anchor else "")


def moderator(who: Signed) -> Moderator:
    """The signed-in account as the log names it (its role: coordinator or admin)."""
    return Moderator(who.account.username, who.account.role)


async def moderation_page(
    request: web.Request,
    who: Signed,
    community: Community,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    sections = request.app.get(SECTIONS, [])
    async with request.app[SESSIONS]() as session:
        loaded = {s.key: await s.load(request, session, community, who) for s in sections}
    context: dict[str, Any] = {
        "here": MODERATION.format(slug=community.slug),
        "modlog_url": request.app[URLS].community_modlog(community.slug),
        "sections": sections,
        "loaded": loaded,
        "errors": errors or {},
        "values": values or {},
        "notice": DONE.get(request.query.get("done", "")),
        "reason_max": REASON_MAX,
        "when": when,
    }
    return render(request, "console/moderation.html", context, status=status, community=community)


async def moderation_get(request: web.Request) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    return await moderation_page(request, who, community)


# -- the held posts ------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldLine:
    id: int
    author: Person
    reason: str
    excerpt: str
    post: str  # the post's URL (on its author's server)
    held_at: str

    @classmethod
    def of(cls, row: HeldPostRow, author: Person) -> HeldLine:
        return cls(row.id, author, row.reason, excerpt(row), row.object_ap_id, when(row.created_at))


def excerpt(row: HeldPostRow, limit: int = EXCERPT) -> str:
    """The start of a held post's text, as plain text (never its markup)."""
    obj = row.ap_activity.get("object")
    fields = [obj.get(k) for k in ("name", "summary", "content")] if isinstance(obj, dict) else []
    return plain_text(" ".join(f for f in fields if isinstance(f, str)), limit)


async def load_held(
    _request: web.Request, session: AsyncSession, community: Community, _who: Signed
) -> dict[str, Any]:
    rows = await holds.queue(session, community, limit=HELD_SHOWN)
    known = await participation.known_actors(session, sorted({r.actor_id for r in rows}))
    lines = [HeldLine.of(row, person(row.actor_id, known)) for row in rows]
    return {"held": lines, "total": await store.count_holds(session, community.id)}


def _hold_id(request: web.Request) -> int:
    hold_id = int(request.match_info["id"])  # the route takes 1 to 9 digits
    if not 0 < hold_id < 2**31:
        raise web.HTTPNotFound()
    return hold_id


GONE = "This post no longer waits in the queue (approved or rejected already, or withdrawn)."


async def approve(request: web.Request) -> web.StreamResponse:
    """Approve a held post (``copub held approve``): relayed once, by the inbox processor."""
    who, community = await require_community(request, request.match_info["slug"])
    hold_id = _hold_id(request)
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await holds.approve(session, community, hold_id, moderator(who))
            await audit(request, "held.approve", community=community,
                        detail=f"#{hold_id} {row.object_ap_id}", session=session)  # fmt: skip
    except holds.NoSuchHold:
        raise web.HTTPConflict(reason=GONE) from None
    return redirect(moderation_path(community.slug, done="approved", anchor="held"))


async def reject(request: web.Request) -> web.StreamResponse:
    """Reject a held post (``copub held reject``), with a reason, telling the author or not."""
    who, community = await require_community(request, request.match_info["slug"])
    hold_id = _hold_id(request)
    form = await request.post()
    reason, tell = str(form.get("reason", "")), form.get("tell_author") == "on"
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await holds.reject(
                session, request.app[URLS], community, hold_id, moderator(who),
                reason=reason, tell_author=tell,
            )  # fmt: skip
            told = " (author told)" if tell else ""
            await audit(request, "held.reject", community=community,
                        detail=f"#{hold_id} {row.object_ap_id}{told}", session=session)  # fmt: skip
    except holds.NoSuchHold:
        raise web.HTTPConflict(reason=GONE) from None
    done = "rejected_told" if tell else "rejected"
    return redirect(moderation_path(community.slug, done=done, anchor="held"))


async def reject_all_page(request: web.Request) -> web.StreamResponse:
    """Ask before rejecting every held post (``copub held reject-all``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    async with request.app[SESSIONS]() as session:
        total = await store.count_holds(session, community.id)
    context = {"total": total, "back": moderation_path(community.slug, anchor="held"),
               "reason_max": REASON_MAX}  # fmt: skip
    return render(request, "console/moderation_reject_all.html", context, community=community)


async def reject_all(request: web.Request) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    reason = str((await request.post()).get("reason", ""))
    async with request.app[SESSIONS].begin() as session:
        count = await holds.reject_all(session, community, moderator(who), reason=reason)
        await audit(request, "held.reject_all", community=community,
                    detail=f"{count} posts", session=session)  # fmt: skip
    return redirect(moderation_path(community.slug, done="rejected_all", anchor="held"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(MODERATION, moderation_get)
    app.router.add_post(HELD + r"/{id:\d{1,9}}/approve", approve)
    app.router.add_post(HELD + r"/{id:\d{1,9}}/reject", reject)
    app.router.add_get(HELD + "/reject-all", reject_all_page)
    app.router.add_post(HELD + "/reject-all", reject_all)
    add_section(app, Section("held", "Held posts", "console/_moderation_held.html", load_held, 10))
    add_page(app, "Moderation", MODERATION, "community")
