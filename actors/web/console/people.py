"""The People page of a community: pending follow requests (approve or reject), its
followers (paged; each can be removed), its blocks (an actor or a domain, with a reason;
lifted again), its coordinators (see people_team.py) and its events' participants
(participants.py).

Each action goes through ``actors.followers``, the path ``copub followers
approve|reject|remove`` and ``copub block`` take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors import followers
from actors.community import Community
from actors.publishing.common import short_id
from actors.store import accounts, participation, social
from actors.store import practice as items
from actors.store.db import AsyncSession
from actors.store.states import FollowerState
from actors.urls import CONSOLE_COMMUNITY
from actors.web.console.account import when
from actors.web.console.auth import audit, redirect, render, require_community, state_of
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS
from actors.web.present import Person, person

PEOPLE = CONSOLE_COMMUNITY + "/people"
PAGE_SIZE = 50  # followers a page
PENDING_SHOWN = 200  # follow requests listed (the oldest first)
EVENTS_SHOWN = 20
DONE = {
    "approved": "Approved: the follower gets an Accept.",
    "approved_group": "Approved: the community gets an Accept. It is not members-only: it is "
    "sent nothing, and its server may fetch nothing.",
    "rejected": "Rejected: the actor gets a Reject.",
    "blocked": "Blocked.",
    "unblocked": "Block lifted.",
    "removed": "The coordinator was removed.",
    "follower_removed": "Removed: the follower gets a Reject of their Follow and, in a "
    "members-only community, loses access at once.",
}


def people_path(slug: str, *, page: int = 1, done: str = "") -> str:
    query = [f"page={page}"] if page > 1 else []
    if done:
        query.append(f"done={done}")
    return PEOPLE.format(slug=slug) + ("?" + "&".join(query) if query else "")


def page_number(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1


@dataclass(frozen=True)
class EventLine:
    item: str  # its short id (the participants page's path)
    title: str
    start: str
    participants: int
    capacity: int | None


async def _events(session: AsyncSession, community: Community) -> list[EventLine]:
    lines = []
    for row, detail in await items.list_events(session, community.id, limit=EVENTS_SHOWN):
        start = detail.start_time if detail is not None else None
        lines.append(
            EventLine(
                item=short_id(row),
                title=row.title or "(untitled event)",
                start=when(start) if start is not None else "",
                participants=await items.count_participants(session, row.id),
                capacity=detail.capacity if detail is not None else None,
            )
        )
    return lines


async def _people(session: AsyncSession, actor_ids: list[str]) -> list[Person]:
    known = await participation.known_actors(session, actor_ids)
    return [person(actor_id, known) for actor_id in actor_ids]


async def people_page(
    request: web.Request,
    community: Community,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    invite: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    page = page_number(request)
    now = state_of(request).clock.now()
    async with request.app[SESSIONS]() as session:
        pending_ids = await social.list_followers(
            session, community.id, state=FollowerState.PENDING, limit=PENDING_SHOWN
        )
        pending_total = await social.count_followers(
            session, community.id, state=FollowerState.PENDING
        )
        total = await social.count_followers(session, community.id, state=FollowerState.ACCEPTED)
        follower_ids = await social.list_followers(
            session,
            community.id,
            state=FollowerState.ACCEPTED,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        context: dict[str, Any] = {
            "pending": await _people(session, pending_ids),
            "pending_total": pending_total,
            "followers": await _people(session, follower_ids),
            "followers_total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "blocks": await social.list_blocks(session, community.id),
            "server_blocks": await social.list_blocks(session, None),
            "coordinators": await accounts.coordinators_of(session, community.id),
            "open_invites": len(await accounts.open_invites(session, community.id, now)),
            "events": await _events(session, community),
        }
    context.update(
        here=PEOPLE.format(slug=community.slug),
        errors=errors or {},
        values=values or {},
        invite=invite,
        notice=DONE.get(request.query.get("done", "")),
        invite_days=state_of(request).invite_valid.days,
        when=when,
    )
    return render(request, "console/people.html", context, status=status, community=community)


async def people_get(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    return await people_page(request, community)


async def decide(request: web.Request) -> web.StreamResponse:
    """Approve or reject a pending follow request (``copub followers approve|reject``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    actor, decision = str(form.get("actor", "")), str(form.get("decision", ""))
    if decision not in ("approve", "reject"):
        raise web.HTTPBadRequest(reason="Approve or reject? Reload the page and try again.")
    approve = decision == "approve"
    try:
        async with request.app[SESSIONS].begin() as session:
            note = await followers.decide(
                session, request.app[URLS], community, actor, approve=approve
            )
            await audit(request, f"follower.{decision}", community=community, detail=actor,
                        session=session)  # fmt: skip
    except followers.NoPendingRequest:
        raise web.HTTPConflict(
            reason="This follow request is no longer pending (answered already, or withdrawn)."
        ) from None
    done = ("approved_group" if note else "approved") if approve else "rejected"
    return redirect(people_path(community.slug, done=done))


async def remove_follower(request: web.Request) -> web.StreamResponse:
    """Remove an approved follower (``copub followers remove``): they get a Reject."""
    _who, community = await require_community(request, request.match_info["slug"])
    actor = str((await request.post()).get("actor", ""))
    try:
        async with request.app[SESSIONS].begin() as session:
            await followers.remove(session, request.app[URLS], community, actor)
            await audit(request, "follower.remove", community=community, detail=actor,
                        session=session)  # fmt: skip
    except followers.NotAFollower:
        raise web.HTTPConflict(
            reason="This actor is no longer a follower (removed already, or unfollowed)."
        ) from None
    return redirect(people_path(community.slug, done="follower_removed"))


async def add_block(request: web.Request) -> web.StreamResponse:
    """Block an actor or a domain in this community (``copub block --community``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    given, reason = str(form.get("target", "")), str(form.get("reason", ""))
    try:
        target = followers.block_target(given)
    except followers.InvalidBlock as exc:
        message = str(exc)
        return await people_page(
            request,
            community,
            errors={"target": message[0].upper() + message[1:] + "."},
            values={"target": given, "reason": reason},
            status=400,
        )
    if len(reason) > followers.REASON_MAX:
        return await people_page(
            request,
            community,
            errors={"reason": f"At most {followers.REASON_MAX} characters."},
            values={"target": given, "reason": reason},
            status=400,
        )
    async with request.app[SESSIONS].begin() as session:
        blocked = await followers.block(session, community.id, target, reason)
        removed = f"; removed {len(blocked.removed)} followers" if blocked.removed else ""
        await audit(request, "block.add", community=community,
                    detail=f"{target.kind} {target.value}{removed}", session=session)  # fmt: skip
    return redirect(people_path(community.slug, done="blocked"))


async def undo_block(request: web.Request) -> web.StreamResponse:
    """Lift one of this community's blocks (``copub block --undo --community``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    kind, value = str(form.get("kind", "")), str(form.get("value", ""))
    if kind not in (followers.ACTOR, followers.DOMAIN) or not value:
        raise web.HTTPBadRequest(reason="Which block? Reload the page and try again.")
    target = followers.Target(kind, value)  # as stored (a block made before any check, too)
    async with request.app[SESSIONS].begin() as session:
        lifted = await followers.unblock(session, community.id, target)
        if lifted:
            await audit(request, "block.undo", community=community,
                        detail=f"{target.kind} {target.value}", session=session)  # fmt: skip
    return redirect(people_path(community.slug, done="unblocked"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PEOPLE, people_get)
    app.router.add_post(PEOPLE + "/requests", decide)
    app.router.add_post(PEOPLE + "/followers/remove", remove_follower)
    app.router.add_post(PEOPLE + "/blocks", add_block)
    app.router.add_post(PEOPLE + "/blocks/undo", undo_block)
    add_page(app, "People", PEOPLE, "community")
