"""The one-time links: an account's setup (``/console/setup/T``: the first admin, a reset)
and an invitation to coordinate a community (``/console/invite/T``). Either ends signed
in; a link works once, until it expires (``[console] invite_valid_days``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.accounts import invites
from actors.accounts.model import INVITE, SETUP, LinkProblem, account_of, normal_username
from actors.accounts.model import username_problem as name_problem
from actors.accounts.passwords import password_problem
from actors.store import accounts, queries
from actors.store.queries import AlreadyExists
from actors.urls import CONSOLE_COMMUNITY, CONSOLE_INVITE, CONSOLE_SETUP
from actors.web.console.auth import audit, redirect, render, signed_in, state_of
from actors.web.console.signin import audit_as, begin_session
from actors.web.keys import SESSIONS, URLS


def _link_problem(request: web.Request, problem: LinkProblem) -> web.Response:
    days = state_of(request).invite_valid.days
    return render(request, "console/link.html", {"problem": str(problem), "days": days},
                  status=410)  # fmt: skip


def _password_errors(request: web.Request, password: str, confirm: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    problem = password_problem(password, state_of(request).passwords.min_length)
    if problem:
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = "The two passwords differ."
    return errors


def _hint(request: web.Request) -> str:
    return (
        f"At least {state_of(request).passwords.min_length} characters. A few words you "
        "will remember are best."
    )


async def setup_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    now = state_of(request).clock.now()
    async with request.app[SESSIONS]() as session:
        try:
            invite = await invites.open_link(session, token, SETUP, now)
        except LinkProblem as problem:
            return _link_problem(request, problem)
        row = await accounts.get_account(session, invite.account_id or 0)
    if row is None:
        return _link_problem(request, LinkProblem("This link is not valid. Ask for a new one."))
    context: dict[str, Any] = {"username": row.username, "role": row.role, "hint": _hint(request)}
    if request.method == "GET":
        return render(request, "console/setup.html", {**context, "errors": {}})
    form = await request.post()
    password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
    errors = _password_errors(request, password, confirm)
    if errors:
        return render(request, "console/setup.html", {**context, "errors": errors}, status=400)
    hashed = await state_of(request).passwords.hash(password)
    try:
        async with request.app[SESSIONS].begin() as session:
            invite = await invites.open_link(session, token, SETUP, now)
            row = await invites.finish_setup(session, invite, hashed, now)
            account = account_of(row)
            await audit_as(request, account, "account.setup", session, detail="password set")
    except LinkProblem as problem:
        return _link_problem(request, problem)
    response = redirect("/console")
    await begin_session(request, account, response)
    return response


async def invite_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["invitation"]
    state = state_of(request)
    now = state.clock.now()
    async with request.app[SESSIONS]() as session:
        try:
            invite = await invites.open_link(session, token, INVITE, now)
        except LinkProblem as problem:
            return _link_problem(request, problem)
        community = await queries.get_community_by_id(session, invite.community_id or 0)
    if community is None:
        return _link_problem(request, LinkProblem("This link is not valid. Ask for a new one."))
    context: dict[str, Any] = {"invited": community, "hint": _hint(request), "values": {}}
    if request.method == "GET":
        return render(request, "console/invite.html", {**context, "errors": {}})
    form = await request.post()
    who = signed_in(request)
    if who is not None and form.get("as_me"):
        try:
            async with request.app[SESSIONS].begin() as session:
                row = await accounts.get_account(session, who.account.id)
                assert row is not None
                invite = await invites.open_link(session, token, INVITE, now)
                await invites.accept_as(session, request.app[URLS], invite, row, now)
                await audit(request, "invite.accept", community=community, session=session)
        except LinkProblem as problem:
            return _link_problem(request, problem)
        return redirect(CONSOLE_COMMUNITY.format(slug=community.slug))
    username = normal_username(str(form.get("username", "")))[:64]
    password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
    errors = _password_errors(request, password, confirm)
    wrong_name = name_problem(username)
    if wrong_name:
        errors["username"] = wrong_name
    context["values"] = {"username": username}
    if errors:
        return render(request, "console/invite.html", {**context, "errors": errors}, status=400)
    hashed = await state.passwords.hash(password)
    try:
        async with request.app[SESSIONS].begin() as session:
            invite = await invites.open_link(session, token, INVITE, now)
            row = await invites.accept_as_new(
                session, request.app[URLS], invite, username, hashed, now
            )
            account = account_of(row)
            await audit_as(request, account, "invite.accept", session, community=community,
                           detail="new account")  # fmt: skip
    except LinkProblem as problem:
        return _link_problem(request, problem)
    except AlreadyExists:
        errors["username"] = "This name is taken: choose another."
        return render(request, "console/invite.html", {**context, "errors": errors},
                      status=400)  # fmt: skip
    response = redirect(CONSOLE_COMMUNITY.format(slug=community.slug))
    await begin_session(request, account, response)
    return response


def setup_routes(app: web.Application) -> None:
    for method in ("GET", "POST"):
        app.router.add_route(method, CONSOLE_SETUP, setup_page)
        app.router.add_route(method, CONSOLE_INVITE, invite_page)
