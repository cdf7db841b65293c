"""The signed-in person's own pages: their account (fediverse account, password,
passkeys) and their sessions, each of which they can end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from actors import moderators
from actors.accounts import coordinators
from actors.accounts import sessions as console_sessions
from actors.accounts.passwords import password_problem
from actors.store import accounts, signins
from actors.web.console.auth import (
    audit,
    clear_cookie,
    redirect,
    render,
    require_account,
    state_of,
)
from actors.web.keys import SESSIONS, URLS

ACCOUNT = "/console/account"
SESSIONS_PAGE = "/console/sessions"
BROWSER_MAX = 80
# what the account page says after a change (``?done=``)
DONE = {"password": "Your password is changed.", "actor": "Saved.", "passkey": "Passkeys updated."}


def when(moment: datetime | None) -> str:
    """A time as the console shows it (UTC, to the minute)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def browser_of(user_agent: str) -> str:
    """A short name for a User-Agent (the part people recognise), or the start of it."""
    for name in ("Edg", "OPR", "Firefox", "Chrome", "Chromium", "Safari"):
        if f"{name}/" in user_agent:
            label = {"Edg": "Edge", "OPR": "Opera"}.get(name, name)
            system = next(
                (s for s in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux")
                 if s in user_agent), "")  # fmt: skip
            return f"{label} on {system.replace('Mac OS', 'macOS')}" if system else label
    return user_agent[:BROWSER_MAX] or "Unknown browser"


async def account_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    who = await require_account(request)
    async with request.app[SESSIONS]() as session:
        rows = await signins.passkeys_of(session, who.account.id)
    passkeys = [
        {
            "id": p.id,
            "name": p.name,
            "created": when(p.created_at),
            "last_used": when(p.last_used_at),
        }
        for p in rows
    ]
    notice = notice or DONE.get(request.query.get("done", ""))
    context = {
        "errors": errors or {},
        "values": values or {},
        "notice": notice,
        "passkeys": passkeys,
        "hint": f"At least {state_of(request).passwords.min_length} characters.",
    }
    return render(request, "console/account.html", context, status=status)


async def account_get(request: web.Request) -> web.StreamResponse:
    return await account_page(request)


async def change_password(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    state = state_of(request)
    form = await request.post()
    current = str(form.get("current", ""))
    password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
    async with request.app[SESSIONS]() as session:
        row = await accounts.get_account(session, who.account.id)
        stored = row.password_hash if row is not None else None
    errors: dict[str, str] = {}
    if stored is not None and not (await state.passwords.verify(stored, current)).ok:
        errors["current"] = "This is not your current password."
    problem = password_problem(password, state.passwords.min_length)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The two passwords differ."
    if errors:
        return await account_page(request, errors=errors, status=400)
    hashed = await state.passwords.hash(password)
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, who.account.id)
        assert row is not None
        row.password_hash = hashed
        ended = await console_sessions.end_others(session, who.account.id, keep=who.session_id)
        await audit(request, "password.change", detail=f"{ended} other sessions ended",
                    session=session)  # fmt: skip
    return redirect(f"{ACCOUNT}?done=password")


async def link_actor(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    form = await request.post()
    given = str(form.get("actor_url", "")).strip()
    actor: str | None = None
    if given:
        try:
            actor = moderators.actor_url(given)
        except moderators.InvalidActorUrl as exc:
            message = str(exc)
            return await account_page(
                request,
                errors={"actor_url": message[0].upper() + message[1:] + "."},
                values={"actor_url": given},
                status=400,
            )
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, who.account.id)
        assert row is not None
        await coordinators.link_actor(session, request.app[URLS], row, actor)
        await audit(request, "actor.link", detail=actor or "unlinked", session=session)
    return redirect(f"{ACCOUNT}?done=actor")


async def sessions_page(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    async with request.app[SESSIONS]() as session:
        rows = await signins.sessions_of(session, who.account.id)
    rules = state_of(request).sessions
    now = state_of(request).clock.now()
    listed = [
        {
            "id": row.id,
            "current": row.id == who.session_id,
            "browser": browser_of(row.user_agent),
            "created": when(row.created_at),
            "last_seen": when(row.last_seen_at),
            "address": row.address,
        }
        for row in rows
        if not rules.expired(row, now)
    ]
    notice = "Session ended." if "ended" in request.query else None
    return render(
        request,
        "console/sessions.html",
        {
            "sessions": listed,
            "notice": notice,
            "idle_minutes": int(rules.idle.total_seconds() // 60),
        },
    )


async def end_session(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    form = await request.post()
    try:
        session_id = int(str(form.get("session", "")))
    except ValueError:
        raise web.HTTPBadRequest(reason="Which session? Reload the page.") from None
    async with request.app[SESSIONS].begin() as session:
        ended = await signins.delete_session(session, session_id, who.account.id)
        if ended:
            await audit(request, "session.end", detail=f"session {session_id}", session=session)
    if session_id == who.session_id:
        response = redirect("/console/signin?out=1")
        clear_cookie(request, response, state_of(request).cookies.session)
        return response
    return redirect(f"{SESSIONS_PAGE}?ended=1")


async def end_other_sessions(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    async with request.app[SESSIONS].begin() as session:
        ended = await console_sessions.end_others(session, who.account.id, keep=who.session_id)
        await audit(request, "session.end_others", detail=f"{ended} ended", session=session)
    return redirect(f"{SESSIONS_PAGE}?ended=1")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(ACCOUNT, account_get)
    app.router.add_post(ACCOUNT + "/password", change_password)
    app.router.add_post(ACCOUNT + "/actor", link_actor)
    app.router.add_get(SESSIONS_PAGE, sessions_page)
    app.router.add_post(SESSIONS_PAGE + "/end", end_session)
    app.router.add_post(SESSIONS_PAGE + "/end-others", end_other_sessions)
