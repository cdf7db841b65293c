"""Who is signed in to the console, and what they may open: the middleware, the
``require_*`` guards, ``audit`` and ``render`` (see the package's docstring)."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from actors.accounts import audit as audit_log
from actors.accounts import coordinators
from actors.accounts import sessions as console_sessions
from actors.accounts.model import Account, account_of
from actors.community import Community
from actors.store import accounts, queries
from actors.store.db import AsyncSession, begin_deferred
from actors.web.console import csrf
from actors.web.console.state import CONSOLE, ConsoleState
from actors.web.keys import SESSIONS, URLS
from actors.web.negotiation import json_error

log = logging.getLogger(__name__)

PREFIX = "/console"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ADDRESS_MAX = 64
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,100}")  # what secrets.token_urlsafe makes


@dataclass(frozen=True)
class Signed:
    """The signed-in person of a request: their account, session (row id) and its token."""

    account: Account
    session_id: int
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.account.is_admin


class CommunityAccess(NamedTuple):
    who: Signed
    community: Community


SIGNED = web.RequestKey("console_signed", Signed)
ANONYMOUS_TOKEN = web.RequestKey("console_anonymous_token", str)
NEW_ANONYMOUS_TOKEN = web.RequestKey("console_new_anonymous_token", bool)
SESSION_ENDED = web.RequestKey("console_session_ended", bool)


def is_console(request: web.Request) -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def state_of(request: web.Request) -> ConsoleState:
    return request.app[CONSOLE]


def address_of(request: web.Request) -> str:
    """Where the request comes from: the connection, or the last ``X-Forwarded-For``
    entry (the one the reverse proxy added) with ``[console] trust_forwarded_for``."""
    if state_of(request).trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:ADDRESS_MAX]
    return (request.remote or "")[:ADDRESS_MAX]


def signed_in(request: web.Request) -> Signed | None:
    """The signed-in person, or None (the middleware found no live session)."""
    return request.get(SIGNED)


def csrf_token(request: web.Request) -> str:
    """The token this request's forms must carry."""
    who = signed_in(request)
    return who.csrf if who is not None else request[ANONYMOUS_TOKEN]


def redirect(location: str) -> web.Response:
    """303 See Other to ``location`` (a path): where a form's POST goes next."""
    return web.Response(status=303, headers={"Location": location})


def _login_redirect(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/signin?next={quote(request.path_qs, safe='/')}")


async def require_account(request: web.Request) -> Signed:
    """The signed-in person; else a GET goes to the sign-in page (and back after it), any
    other request is refused (403)."""
    who = signed_in(request)
    if who is None:
        if request.method in SAFE_METHODS:
            raise _login_redirect(request)
        raise web.HTTPForbidden(reason="Sign in first.")
    return who


async def require_admin(request: web.Request) -> Signed:
    """A signed-in admin, else 403."""
    who = await require_account(request)
    if not who.is_admin:
        raise web.HTTPForbidden(reason="Only an admin can open this page.")
    return who


async def require_community(request: web.Request, slug: str) -> CommunityAccess:
    """The signed-in person and the community ``slug``, if they may work on it (an admin,
    or one of its coordinators); else 403 with the same words whether the community
    exists or not, and nothing of it in the answer (an admin gets 404 for a slug that
    names no community)."""
    who = await require_account(request)
    async with request.app[SESSIONS]() as session:
        community = await queries.get_community(session, slug)
        allowed = community is not None and await coordinators.may_work_on(
            session, who.account, community.id
        )
    if community is not None and allowed:
        return CommunityAccess(who, community)
    if who.is_admin:
        raise web.HTTPNotFound()
    raise web.HTTPForbidden(reason="You do not coordinate this community.")


async def audit(
    request: web.Request,
    action: str,
    *,
    community: Community | None = None,
    detail: str = "",
    session: AsyncSession | None = None,
) -> None:
    """Write an audit record: the signed-in person, ``action`` (a dotted name such as
    ``story.publish``), the community, ``detail`` (a short text, never a secret), the
    time and the address. Pass ``session`` to write it in your own transaction (the
    action and its record then commit together)."""
    who = signed_in(request)
    fields: dict[str, Any] = {
        "who": who.account if who is not None else None,
        "now": state_of(request).clock.now(),
        "community": community,
        "detail": detail,
        "address": address_of(request),
    }
    if who is None:
        fields["actor"] = audit_log.NOT_SIGNED_IN
    if session is not None:
        await audit_log.record(session, action, **fields)
        return
    async with request.app[SESSIONS].begin() as own:
        await audit_log.record(own, action, **fields)


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    community: Community | None = None,
) -> web.Response:
    """A console page: ``template`` (extending ``console/base.html``) with ``context`` and
    what every console page has: ``who`` (Signed or None), ``csrf`` (the form token),
    ``community`` (its navigation is shown), ``nav`` (the registered pages), ``urls``
    and ``path``."""
    state = state_of(request)
    full = {
        "who": signed_in(request),
        "csrf": csrf_token(request),
        "community": community,
        "nav": {scope: state.pages(scope) for scope in ("community", "server", "account")},
        "urls": request.app[URLS],
        "path": request.path,
        "passkeys_available": state.relying_party is not None,
        **(context or {}),
    }
    return aiohttp_jinja2.render_template(template, request, full, status=status)


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=state_of(request).cookies.secure,
    )


def clear_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(
        name, path="/", secure=state_of(request).cookies.secure, httponly=True, samesite="Lax"
    )


# -- the middleware ----------------------------------------------------------------------


async def _load(request: web.Request) -> None:
    state = state_of(request)
    token = request.cookies.get(state.cookies.session, "")
    if token:
        now = state.clock.now()
        async with begin_deferred(request.app[SESSIONS]) as session:
            row = await console_sessions.find(session, token, state.sessions, now)
            account = await accounts.get_account(session, row.account_id) if row else None
            if row is not None and account is not None:
                request[SIGNED] = Signed(account_of(account), row.id, row.csrf_token)
                return
        request[SESSION_ENDED] = True
    anonymous = request.cookies.get(state.cookies.csrf, "")
    if not TOKEN_RE.fullmatch(anonymous):
        anonymous = secrets.token_urlsafe(32)
        request[NEW_ANONYMOUS_TOKEN] = True
    request[ANONYMOUS_TOKEN] = anonymous


async def _check_post(request: web.Request) -> None:
    """Origin and token, before any handler (a refused request changes nothing)."""
    state = state_of(request)
    if not csrf.same_origin(request, state.origin):
        log.warning(
            "cross-site POST refused",
            extra={"path": request.path, "remote": address_of(request)},
        )
        raise web.HTTPForbidden(reason="This form was sent from another site: refused.")
    if not csrf.tokens_match(await csrf.token_of(request), csrf_token(request)):
        if request.get(SESSION_ENDED):
            raise web.HTTPForbidden(
                reason="Your session has ended: sign in again (nothing was saved)."
            )
        raise web.HTTPForbidden(
            reason="This form has expired or lacks its security token: reload the page "
            "and try again (nothing was saved)."
        )


def _wants_json(request: web.Request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _error(request: web.Request, status: int, reason: str) -> web.StreamResponse:
    if _wants_json(request):
        return json_error(status, reason)
    return render(request, "console/error.html", {"status": status, "reason": reason},
                  status=status)  # fmt: skip


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On ``/console``: finds the session, checks every POST's origin and token, answers
    errors as console pages (or JSON to scripts), and marks every answer ``no-store``."""
    if not is_console(request):
        return await handler(request)
    await _load(request)
    try:
        if request.method not in SAFE_METHODS:
            await _check_post(request)
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            if "Location" not in exc.headers:
                raise
            response = redirect(exc.headers["Location"])
        else:
            reason = exc.reason if exc.status != 404 else "Not found."
            response = _error(request, exc.status, reason)
    response.headers["Cache-Control"] = "no-store"
    if request.get(NEW_ANONYMOUS_TOKEN) and SIGNED not in request:
        set_cookie(
            request, response, state_of(request).cookies.csrf, request[ANONYMOUS_TOKEN], 86400
        )
    return response
