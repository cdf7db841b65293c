"""Reports on a community's Moderation page: the reports other servers sent about it (a
``Flag``), the oldest first, each resolved by a button (``copub reports resolve``); and a
form that reports a remote post or account to its server (``copub report``), from the
server's moderation actor. Admins resolve the server's own queue (reports that concern no
community) on the Server pages (server_reports.py). Through ``actors.moderation.reports``
as the signed-in :class:`Moderator`, each action audited in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors.community import Community
from actors.errors import CopubError
from actors.moderation import reports
from actors.store import participation
from actors.store.db import AsyncSession
from actors.web.console import moderation as board
from actors.web.console.account import when
from actors.web.console.auth import Signed, audit, redirect, require_community
from actors.web.keys import REMOTE, SESSIONS, URLS
from actors.web.present import Person, person
from federation.client import RemoteStatusError
from federation.errors import FederationError, UnsafeAddress

REPORTS = board.MODERATION + "/reports"
REPORTS_SHOWN = 50  # open reports listed, the oldest first
URL_MAX = 2048


@dataclass(frozen=True)
class ReportLine:
    """A report as the console lists it: who sent it, about what, why, when."""

    id: int
    reporter: Person
    objects: tuple[str, ...]
    reason: str
    at: str


async def report_lines(session: AsyncSession, community_id: int | None) -> dict[str, Any]:
    """The open reports of a queue (None: the server's) and how many are open."""
    found = await reports.open_reports(session, community_id, REPORTS_SHOWN)
    known = await participation.known_actors(session, sorted({r.reporter for r in found}))
    lines = [
        ReportLine(r.id, person(r.reporter, known), r.objects, r.content, when(r.created_at))
        for r in found
    ]
    return {"reports": lines, "total": await reports.count_open(session, community_id)}


async def load_reports(
    _request: web.Request, session: AsyncSession, community: Community, _who: Signed
) -> dict[str, Any]:
    return await report_lines(session, community.id)


def report_id(request: web.Request) -> int:
    found = int(request.match_info["id"])  # the route takes 1 to 9 digits
    if not 0 < found < 2**31:
        raise web.HTTPNotFound()
    return found


GONE = "No such report in this queue."


async def resolve(request: web.Request) -> web.StreamResponse:
    """Resolve a report of the community's queue (``copub reports resolve``)."""
    who, community = await require_community(request, request.match_info["slug"])
    number = report_id(request)
    try:
        async with request.app[SESSIONS].begin() as session:
            await reports.resolve(session, number, board.moderator(who), queue=community.id)
            await audit(request, "report.resolve", community=community, detail=f"#{number}",
                        session=session)  # fmt: skip
    except reports.NoSuchReport:
        raise web.HTTPNotFound(reason=GONE) from None
    return redirect(board.moderation_path(community.slug, done="resolved", anchor="reports"))


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def unreachable(url: str, exc: FederationError) -> str:
    """Why the post or account at ``url`` could not be fetched, for the coordinator."""
    if isinstance(exc, UnsafeAddress):
        return f"{url} is on a private or local address, which this server may not contact."
    if isinstance(exc, RemoteStatusError) and exc.status in (404, 410):
        return f"Nothing was found at {url}: its server answered {exc.status}."
    return f"{url} could not be reached or read: {exc.reason}."


async def _target(request: web.Request, url: str) -> reports.Target:
    """What the report is about: from what copub keeps, else fetched (``copub report``)."""
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        try:
            return await reports.known_target(session, urls, url)
        except reports.NoSuchReport:
            pass
    return await reports.fetch_target(request.app[REMOTE], urls, url)


async def send(request: web.Request) -> web.StreamResponse:
    """Report a remote post or account to its server, for the community (``copub report``):
    the moderation actor's ``Flag`` queued, the report kept, the log's ``reported`` line."""
    who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("report-url", "report-reason")}
    url, reason = values["report-url"].strip(), values["report-reason"]
    try:
        if len(url) > URL_MAX:
            raise reports.InvalidReport(f"a URL is at most {URL_MAX} characters", field="url")
        reports.clean_reason_out(reason)  # refused before any fetch
        try:
            target = await _target(request, url)
        except FederationError as exc:
            raise reports.InvalidReport(unreachable(url, exc), field="url") from exc
        async with request.app[SESSIONS].begin() as session:
            by = board.moderator(who)
            sent = await reports.send_report(
                session, request.app[URLS], community, url, reason, by, target=target
            )
            await audit(request, "report.send", community=community,
                        detail=f"#{sent.id} {' '.join(sent.objects)}", session=session)  # fmt: skip
    except CopubError as exc:
        name = "report-reason" if exc.field == "reason" else "report-url"
        errors = {name: _sentence(exc.message)}
        return await board.moderation_page(request, who, community, errors=errors,
                                           values=values, status=400)  # fmt: skip
    return redirect(board.moderation_path(community.slug, done="reported", anchor="reports"))


def setup_routes(app: web.Application) -> None:
    app.router.add_post(REPORTS, send)
    app.router.add_post(REPORTS + r"/{id:\d{1,9}}/resolve", resolve)
    section = board.Section(
        "reports", "Reports", "console/_moderation_reports.html", load_reports, 20
    )
    board.add_section(app, section)
