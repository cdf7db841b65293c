"""The server's reports queue, for admins: the ``Flag`` reports that concern no community
here (``copub reports`` without a SLUG), the oldest first, each resolved by a button
(``copub reports resolve``). A community's own reports are on its Moderation page
(moderation_reports.py)."""

from __future__ import annotations

from aiohttp import web

from actors.moderation import reports
from actors.web.console.auth import audit, redirect, render, require_admin
from actors.web.console.moderation import moderator
from actors.web.console.moderation_reports import GONE, report_id, report_lines
from actors.web.console.server_communities import SERVER
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS

SERVER_REPORTS = SERVER + "/reports"


async def reports_page(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        context = await report_lines(session, None)
    context["notice"] = "Report resolved." if request.query.get("done") == "resolved" else None
    return render(request, "console/server_reports.html", context)


async def resolve(request: web.Request) -> web.StreamResponse:
    """Resolve a report of the server's queue."""
    who = await require_admin(request)
    number = report_id(request)
    try:
        async with request.app[SESSIONS].begin() as session:
            await reports.resolve(session, number, moderator(who), queue=None)
            await audit(request, "server_report.resolve", detail=f"#{number}", session=session)
    except reports.NoSuchReport:
        raise web.HTTPNotFound(reason=GONE) from None
    return redirect(SERVER_REPORTS + "?done=resolved")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(SERVER_REPORTS, reports_page)
    app.router.add_post(SERVER_REPORTS + r"/{id:\d{1,9}}/resolve", resolve)
    add_page(app, "Reports", SERVER_REPORTS, "server")
