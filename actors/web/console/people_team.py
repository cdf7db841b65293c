"""The coordinators of a community, on its People page: invite one (a one-time link,
valid ``[console] invite_valid_days``, shown once to copy: ``copub coordinator invite``)
and remove one (the account no longer coordinates the community, and its fediverse
account leaves the ``moderators`` collection: ``actors.accounts.coordinators``)."""

from __future__ import annotations

from aiohttp import web

from actors.accounts import coordinators, invites
from actors.store import accounts
from actors.web.console.account import when
from actors.web.console.auth import audit, redirect, require_community, state_of
from actors.web.console.people import PEOPLE, people_page, people_path
from actors.web.keys import SESSIONS, URLS


async def invite(request: web.Request) -> web.StreamResponse:
    """A new invitation to coordinate the community, shown once (only its hash is kept)."""
    who, community = await require_community(request, request.match_info["slug"])
    state = state_of(request)
    async with request.app[SESSIONS].begin() as session:
        link = await invites.coordinator_invite(
            session,
            community.id,
            valid=state.invite_valid,
            now=state.clock.now(),
            created_by=who.account.id,
        )
        await audit(request, "invite.create", community=community, session=session)
    shown = {"url": request.app[URLS].console_invite(link.token), "until": when(link.expires_at)}
    return await people_page(request, community, invite=shown)


async def remove(request: web.Request) -> web.StreamResponse:
    """The account stops coordinating the community (its fediverse account leaves the
    community's moderators)."""
    who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    try:
        account_id = int(str(form.get("account", "")))
        if not 0 < account_id < 2**31:  # an int4 id: larger ones are no account, not a 500
            raise ValueError(account_id)
    except ValueError:
        raise web.HTTPBadRequest(reason="Which coordinator? Reload the page.") from None
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, account_id)
        removed = row is not None and await coordinators.take_community(
            session, request.app[URLS], row, community.id, by=coordinators.moderator(who.account)
        )
        if row is None or not removed:
            raise web.HTTPConflict(reason="This person does not coordinate the community.")
        await audit(request, "coordinator.remove", community=community, detail=row.username,
                    session=session)  # fmt: skip
    if account_id == who.account.id and not who.is_admin:
        return redirect("/console")  # they no longer coordinate it
    return redirect(people_path(community.slug, done="removed"))


def setup_routes(app: web.Application) -> None:
    app.router.add_post(PEOPLE + "/coordinators/invite", invite)
    app.router.add_post(PEOPLE + "/coordinators/remove", remove)
