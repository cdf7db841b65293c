"""Passkeys in the console: JSON endpoints for the two WebAuthn ceremonies (driven by
``/static/passkeys.js``), and forms to remove a passkey or to ask for one after the
password. Each ceremony: POST ``.../options`` gives the options (and a ``ceremony`` key),
POST the browser's answer with that key. Errors are JSON ``{"error": ...}`` with a 4xx."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from actors.accounts import passkeys
from actors.accounts.model import account_of
from actors.accounts.passkeys import PasskeyProblem, RelyingParty
from actors.store import accounts, signins
from actors.web.console.account import ACCOUNT
from actors.web.console.auth import audit, redirect, require_account, state_of
from actors.web.console.signin import audit_as, begin_session, safe_next
from actors.web.keys import SESSIONS
from actors.web.negotiation import json_error, json_response

REGISTER = "/console/passkeys"
SIGNIN = "/console/signin/passkey"
BODY_MAX = 64 * 1024


def _relying_party(request: web.Request) -> RelyingParty:
    rp = state_of(request).relying_party
    if rp is None:
        raise web.HTTPNotFound(reason="Passkeys need the console on a domain name.")
    return rp


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > BODY_MAX:
        raise web.HTTPRequestEntityTooLarge(max_size=BODY_MAX, actual_size=request.content_length)
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):
        raise web.HTTPBadRequest(reason="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="The body is not a JSON object.")
    return body


async def register_options(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    rp = _relying_party(request)
    now = state_of(request).clock.now()
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, who.account.id)
        assert row is not None
        try:
            key, options = await passkeys.registration_options(session, rp, row, now)
        except PasskeyProblem as exc:
            return json_error(400, str(exc))
    return json_response({"ceremony": key, "options": options})


async def register(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    rp = _relying_party(request)
    body = await _body(request)
    now = state_of(request).clock.now()
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await accounts.get_account(session, who.account.id)
            assert row is not None
            passkey = await passkeys.finish_registration(
                session, rp, row,
                key=str(body.get("ceremony", "")), credential=body.get("credential"),
                name=str(body.get("name", "")), now=now,
            )  # fmt: skip
            await audit(request, "passkey.add", detail=passkey.name, session=session)
    except PasskeyProblem as exc:
        return json_error(400, str(exc))
    return json_response({"id": passkey.id, "redirect": f"{ACCOUNT}?done=passkey"})


async def remove(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    try:
        passkey_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[SESSIONS].begin() as session:
        removed = await signins.delete_passkey(session, passkey_id, who.account.id)
        if not removed:
            raise web.HTTPNotFound()
        row = await accounts.get_account(session, who.account.id)
        assert row is not None
        if not await signins.passkeys_of(session, row.id):
            row.passkey_second_factor = False
        await audit(request, "passkey.remove", detail=f"passkey {passkey_id}", session=session)
    return redirect(f"{ACCOUNT}?done=passkey")


async def second_factor(request: web.Request) -> web.StreamResponse:
    who = await require_account(request)
    form = await request.post()
    enable = form.get("enable") == "1"
    async with request.app[SESSIONS].begin() as session:
        row = await accounts.get_account(session, who.account.id)
        assert row is not None
        if enable and not await signins.passkeys_of(session, row.id):
            raise web.HTTPBadRequest(reason="Add a passkey first.")
        row.passkey_second_factor = enable
        await audit(request, "passkey.second_factor", detail="on" if enable else "off",
                    session=session)  # fmt: skip
    return redirect(f"{ACCOUNT}?done=passkey")


async def signin_options(request: web.Request) -> web.StreamResponse:
    """Options for signing in with a passkey, or for the passkey step after a password."""
    state = state_of(request)
    rp = _relying_party(request)
    now = state.clock.now()
    pending_key = request.cookies.get(state.cookies.second_factor, "")
    async with request.app[SESSIONS].begin() as session:
        pending = None
        if pending_key:
            pending = await passkeys.pending_second_factor(session, pending_key, now)
            if pending is None:
                return json_error(400, "This sign-in took too long. Start again.")
        key, options = await passkeys.signin_options(session, rp, now, pending=pending)
    return json_response({"ceremony": key, "options": options})


async def signin(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    rp = _relying_party(request)
    body = await _body(request)
    now = state.clock.now()
    pending_key = request.cookies.get(state.cookies.second_factor, "")
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await passkeys.finish_signin(
                session, rp,
                key=pending_key or str(body.get("ceremony", "")),
                credential=body.get("credential"),
                now=now,
                purpose=passkeys.SECOND_FACTOR if pending_key else passkeys.SIGNIN,
            )  # fmt: skip
            row.throttle_reset_at = now
            account = account_of(row)
            await audit_as(request, account, "passkey.use", session)
    except PasskeyProblem as exc:
        return json_error(400, str(exc))
    response = json_response({"redirect": safe_next(body.get("next"))})
    await begin_session(request, account, response)
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_post(REGISTER + "/options", register_options)
    app.router.add_post(REGISTER, register)
    app.router.add_post(REGISTER + "/{id}/remove", remove)
    app.router.add_post(REGISTER + "/second-factor", second_factor)
    app.router.add_post(SIGNIN + "/options", signin_options)
    app.router.add_post(SIGNIN, signin)
