"""The Tokens page of a community: bearer tokens for the authoring API (``POST
/c/SLUG/outbox``), as ``copub token create|list|revoke``: a new token is shown once (only
its hash is kept), the list shows labels and dates (never a token), revoking one stops it
at once."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.community import Community
from actors.store import tokens
from actors.urls import CONSOLE_COMMUNITY
from actors.web.console.account import when
from actors.web.console.auth import audit, redirect, render, require_community
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS

TOKENS = CONSOLE_COMMUNITY + "/tokens"
LABEL_MAX = 200  # tokens.label
DONE = {"revoked": "Token revoked: it no longer works."}


async def tokens_page(
    request: web.Request,
    community: Community,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await tokens.list_tokens(session, community.id)
    listed = [
        {
            "id": row.id,
            "label": row.label,
            "created": when(row.created_at),
            "last_used": when(row.last_used_at),
        }
        for row in rows
    ]
    context = {
        "here": TOKENS.format(slug=community.slug),
        "tokens": listed,
        "errors": errors or {},
        "values": values or {},
        "created": created,
        "outbox": request.app[URLS].community_outbox(community.slug),
        "notice": DONE.get(request.query.get("done", "")),
    }
    return render(request, "console/tokens.html", context, status=status, community=community)


async def tokens_get(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    return await tokens_page(request, community)


async def create(request: web.Request) -> web.StreamResponse:
    """A new token, shown on the answer to this POST and never again."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    label = str(form.get("label", "")).strip()
    if len(label) > LABEL_MAX:
        return await tokens_page(
            request,
            community,
            errors={"label": f"At most {LABEL_MAX} characters."},
            values={"label": label},
            status=400,
        )
    async with request.app[SESSIONS].begin() as session:
        row, secret = await tokens.create_token(session, community.id, label)
        token_id = row.id
        await audit(request, "token.create", community=community,
                    detail=f"token {token_id} {label}".strip(), session=session)  # fmt: skip
    return await tokens_page(
        request, community, created={"id": token_id, "label": label, "token": secret}
    )


async def revoke(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    try:
        token_id = int(request.match_info["token"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[SESSIONS].begin() as session:
        if not await tokens.revoke_token(session, community.id, token_id):
            raise web.HTTPNotFound()
        await audit(request, "token.revoke", community=community, detail=f"token {token_id}",
                    session=session)  # fmt: skip
    return redirect(TOKENS.format(slug=community.slug) + "?done=revoked")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(TOKENS, tokens_get)
    app.router.add_post(TOKENS, create)
    app.router.add_post(TOKENS + r"/{token:\d{1,9}}/revoke", revoke)  # an int4 id
    add_page(app, "Tokens", TOKENS, "community")
