"""Signing in (with a password, then a passkey if the account asks for one) and out."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from actors.accounts import audit as audit_log
from actors.accounts import passkeys as passkey_rules
from actors.accounts import sessions as console_sessions
from actors.accounts import signin
from actors.accounts.model import Account
from actors.accounts.throttle import Locked
from actors.community import Community
from actors.store import accounts
from actors.store.db import AsyncSession
from actors.web.console.auth import (
    address_of,
    audit,
    clear_cookie,
    redirect,
    render,
    set_cookie,
    signed_in,
    state_of,
)
from actors.web.keys import SESSIONS

SIGNIN = "/console/signin"
SIGNOUT = "/console/signout"
SECOND_FACTOR = "/console/signin/second-factor"


def safe_next(value: Any) -> str:
    """Where to go after signing in: a console path, never another site."""
    if (
        isinstance(value, str)
        and (value == "/console" or value.startswith(("/console/", "/console?")))
        and "\\" not in value
        and all(c.isprintable() and not c.isspace() for c in value)
    ):
        return value
    return "/console"


async def begin_session(
    request: web.Request, account: Account, response: web.StreamResponse
) -> None:
    """Sign ``account`` in on this browser: a new session (the browser's previous one,
    if any, ends: rotation), its cookie, an audit record."""
    state = state_of(request)
    now = state.clock.now()
    async with request.app[SESSIONS].begin() as session:
        token, row = await console_sessions.start(
            session,
            account.id,
            address=address_of(request),
            user_agent=request.headers.get("User-Agent", ""),
            now=now,
            rules=state.sessions,
            replaces=request.cookies.get(state.cookies.session),
        )
        await audit_as(request, account, "signin", session, detail=f"session {row.id}")
    max_age = int(state.sessions.max_age / timedelta(seconds=1))
    set_cookie(request, response, state.cookies.session, token, max_age)
    clear_cookie(request, response, state.cookies.second_factor)


async def audit_as(
    request: web.Request,
    account: Account,
    action: str,
    session: AsyncSession,
    *,
    community: Community | None = None,
    detail: str = "",
) -> None:
    """An audit record of a person signing in (not signed in yet on this request)."""
    await audit_log.record(
        session,
        action,
        who=account,
        now=state_of(request).clock.now(),
        community=community,
        detail=detail,
        address=address_of(request),
    )


def _signin_page(request: web.Request, **context: Any) -> web.Response:
    status = context.pop("status", 200)
    context.setdefault("next", safe_next(request.query.get("next")))
    context.setdefault("username", "")
    return render(request, "console/signin.html", context, status=status)


async def signin_form(request: web.Request) -> web.StreamResponse:
    if signed_in(request) is not None:
        return redirect(safe_next(request.query.get("next")))
    notice = "You are signed out." if "out" in request.query else None
    response = _signin_page(request, notice=notice)
    cookies = state_of(request).cookies
    if cookies.second_factor in request.cookies:  # a passkey step left unfinished
        clear_cookie(request, response, cookies.second_factor)
    return response


def locked_message(lock: Locked, minutes: int) -> str:
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if lock.scope == "address":
        return f"Too many failed sign-ins came from your network. Wait {wait}, then try again."
    return (
        f"Too many failed sign-ins for this account. Wait {wait}, then try again, or ask "
        "an admin for a new sign-in link (it sets a new password and lifts the wait)."
    )


async def signin_submit(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    form = await request.post()
    username = str(form.get("username", ""))[:200]
    password = str(form.get("password", ""))
    next_ = safe_next(form.get("next"))
    now = state.clock.now()
    outcome = await signin.check_password(
        request.app[SESSIONS],
        state.passwords,
        state.throttle,
        username=username,
        password=password,
        address=address_of(request),
        now=now,
    )
    if isinstance(outcome, Locked):
        minutes = outcome.minutes_left(now)
        response = _signin_page(
            request, username=username, next=next_, locked=locked_message(outcome, minutes),
            status=429,
        )  # fmt: skip
        response.headers["Retry-After"] = str(math.ceil((outcome.until - now).total_seconds()))
        return response
    if isinstance(outcome, signin.Wrong):
        return _signin_page(
            request, username=username, next=next_, status=401,
            error="That name and password do not match.",
        )  # fmt: skip
    if isinstance(outcome, signin.NeedsPasskey):
        async with request.app[SESSIONS].begin() as session:
            row = await accounts.get_account(session, outcome.account.id)
            assert row is not None
            key = await passkey_rules.start_second_factor(session, row, now)
        response = redirect(f"{SECOND_FACTOR}?next={quote(next_, safe='/')}")
        max_age = int(passkey_rules.CEREMONY_TIME.total_seconds())
        set_cookie(request, response, state.cookies.second_factor, key, max_age)
        return response
    response = redirect(next_)
    await begin_session(request, outcome.account, response)
    return response


async def second_factor_page(request: web.Request) -> web.StreamResponse:
    return render(
        request, "console/second_factor.html", {"next": safe_next(request.query.get("next"))}
    )


async def signout(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    who = signed_in(request)
    async with request.app[SESSIONS].begin() as session:
        await console_sessions.end(session, request.cookies.get(state.cookies.session, ""))
        if who is not None:
            await audit(request, "signout", session=session)
    response = redirect(f"{SIGNIN}?out=1")
    clear_cookie(request, response, state.cookies.session)
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get(SIGNIN, signin_form)
    app.router.add_post(SIGNIN, signin_submit)
    app.router.add_get(SECOND_FACTOR, second_factor_page)
    app.router.add_post(SIGNOUT, signout)
