"""The audit log, for admins: every console action, and what the command line did to
accounts, with who, what, when, from where and in which community; newest first, a page
at a time (``?before=ID``: the entries older than ID)."""

from __future__ import annotations

from aiohttp import web

from actors.store import audit as audit_log
from actors.web.console.auth import render, require_admin
from actors.web.console.server_communities import SERVER
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS

AUDIT = SERVER + "/audit"
PAGE = 50


async def audit_page(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    before_text = request.query.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 19 else None
    async with request.app[SESSIONS]() as session:
        rows = await audit_log.entries(session, limit=PAGE + 1, before_id=before)
    entries = [
        {
            "id": row.id,
            "at": row.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "iso": row.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "actor": row.actor,
            "action": row.action,
            "community": row.community_slug,
            "detail": row.detail,
            "address": row.address,
        }
        for row in rows[:PAGE]
    ]
    older = f"{AUDIT}?before={entries[-1]['id']}" if len(rows) > PAGE else None
    context = {"entries": entries, "older": older, "paged": before is not None}
    return render(request, "console/server_audit.html", context)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(AUDIT, audit_page)
    add_page(app, "Audit log", AUDIT, "server")
