"""The server's accounts, for admins: who may sign in and which communities each one
coordinates; invite a coordinator to a community (``copub coordinator invite``) and give
someone a new sign-in link (``copub admin reset``: for a forgotten password, a lost
passkey, or an account waiting after failed sign-ins). Each link is shown once."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.accounts import invites
from actors.store import accounts, queries
from actors.web.console.account import when
from actors.web.console.auth import audit, render, require_admin, state_of
from actors.web.console.server_communities import SERVER
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS

COORDINATORS = SERVER + "/coordinators"


async def coordinators_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    shown: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        rows = await accounts.list_accounts(session)
        theirs = await accounts.community_ids_by_account(session)
        communities = await queries.list_communities(session)
    slugs = {c.id: c.slug for c in communities}
    listed: list[dict[str, Any]] = [
        {
            "id": row.id,
            "username": row.username,
            "admin": row.role == "admin",
            "communities": [slugs[i] for i in theirs.get(row.id, []) if i in slugs],
            "actor_url": row.actor_url,
            "set_up": row.password_hash is not None or row.webauthn_user_id is not None,
            "since": when(row.created_at),
        }
        for row in rows
    ]
    context = {
        "people": listed,
        "communities": communities,
        "community_options": [("", "Choose a community")] + [(c.slug, c.name) for c in communities],
        "errors": errors or {},
        "values": values or {},
        "shown": shown,
        "invite_days": state_of(request).invite_valid.days,
    }
    return render(request, "console/server_coordinators.html", context, status=status)


async def coordinators_get(request: web.Request) -> web.StreamResponse:
    return await coordinators_page(request)


async def invite(request: web.Request) -> web.StreamResponse:
    """An invitation to coordinate a community, shown once (only its hash is kept)."""
    who = await require_admin(request)
    state = state_of(request)
    slug = str((await request.post()).get("community", ""))
    async with request.app[SESSIONS]() as session:
        community = await queries.get_community(session, slug)
    if community is None:
        error = {"community": "Choose a community."}
        return await coordinators_page(request, errors=error, status=400)
    async with request.app[SESSIONS].begin() as session:
        link = await invites.coordinator_invite(
            session, community.id, valid=state.invite_valid, now=state.clock.now(),
            created_by=who.account.id,
        )  # fmt: skip
        await audit(request, "invite.create", community=community, session=session)
    shown = {
        "id": "invite-link",
        "intro": f"Give this link to the new coordinator of {community.name}. It works "
        f"once, until {when(link.expires_at)}, and is not shown again:",
        "url": request.app[URLS].console_invite(link.token),
    }
    return await coordinators_page(request, values={"community": slug}, shown=shown)


async def reset(request: web.Request) -> web.StreamResponse:
    """A new one-time link for the person to set a new password (their earlier links
    stop working; their failed sign-ins no longer count); shown once."""
    who = await require_admin(request)
    state = state_of(request)
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, int(request.match_info["account"]))
        if row is None:
            raise web.HTTPNotFound()
        link = await invites.setup_link(
            session, row, valid=state.invite_valid, now=state.clock.now(),
            created_by=who.account.id,
        )  # fmt: skip
        name = row.username
        await audit(request, "account.reset", detail=name, session=session)
    shown = {
        "id": "setup-link",
        "intro": f"Give {name} this link to set a new password. It works once, until "
        f"{when(link.expires_at)}, and is not shown again; their sessions end when they "
        "use it:",
        "url": request.app[URLS].console_setup(link.token),
    }
    return await coordinators_page(request, shown=shown)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(COORDINATORS, coordinators_get)
    app.router.add_post(COORDINATORS + "/invite", invite)
    app.router.add_post(SERVER + r"/accounts/{account:\d{1,9}}/reset", reset)  # an int4 id
    add_page(app, "Coordinators", COORDINATORS, "server")
