"""The Value page of a community: the indicators of value creation its coordinators record
per cycle (a short fact with a date, perhaps a number), as ``copub value add|list|remove``.
Value-creation stories themselves are written in *Write* (a story's "Value created")."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiohttp import web

from actors.community import Community
from actors.content import InvalidContent
from actors.publishing import indicators as publishing
from actors.store import values as store
from actors.urls import CONSOLE_COMMUNITY
from actors.values import CYCLE_NAMES, CYCLES, Indicator, number_text
from actors.web.console.auth import Signed, audit, redirect, render, require_community
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS

VALUE = CONSOLE_COMMUNITY + "/value"
FIELDS = ("cycle", "text", "number", "on")
DONE = {"added": "Indicator recorded: it shows in the value matrix.",
        "removed": "Indicator removed."}  # fmt: skip


async def value_page(
    request: web.Request, community: Community, *, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    async with request.app[SESSIONS]() as session:
        rows = await store.indicators(session, community.id, limit=500)
    listed = [
        {
            "id": r.id,
            "cycle": CYCLE_NAMES.get(r.cycle, r.cycle),
            "text": r.text,
            "number": number_text(r.number),
            "on": r.on_date.isoformat(),
        }
        for r in rows
    ]
    today = datetime.now(UTC).date().isoformat()
    context = {
        "here": VALUE.format(slug=community.slug),
        "indicators": listed,
        "cycle_options": [(c, CYCLE_NAMES[c]) for c in CYCLES],
        "errors": errors or {},
        "values": values or {"cycle": "applied", "on": today},
        "matrix_url": request.app[URLS].community_value(community.slug),
        "notice": DONE.get(request.query.get("done", "")),
    }
    return render(request, "console/value.html", context, status=status, community=community)


async def value_get(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    return await value_page(request, community)


def _indicator(values: dict[str, str]) -> Indicator:
    try:
        on = date.fromisoformat(values["on"].strip())
    except ValueError:
        raise InvalidContent("on", "a date, e.g. 2026-11-30") from None
    text = values["number"].strip().replace(",", ".")
    try:
        number = float(text) if text else None
    except ValueError:
        raise InvalidContent("number", "a number, or nothing") from None
    return Indicator(values["cycle"], values["text"], on, number)


def _who(who: Signed) -> str:
    return who.account.actor_url or f"{who.account.username} (console)"


async def add(request: web.Request) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await publishing.add_indicator(
                session, community, _indicator(values), by=_who(who)
            )
            await audit(request, "value.indicator.add", community=community,
                        detail=f"indicator {row.id} {row.cycle}", session=session)  # fmt: skip
    except InvalidContent as exc:
        errors = {exc.field if exc.field in FIELDS else "text": exc.message}
        return await value_page(request, community, errors=errors, values=values, status=400)
    return redirect(VALUE.format(slug=community.slug) + "?done=added")


async def remove(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    indicator_id = int(request.match_info["indicator"])
    try:
        async with request.app[SESSIONS].begin() as session:
            await publishing.remove_indicator(session, community, indicator_id)
            await audit(request, "value.indicator.remove", community=community,
                        detail=f"indicator {indicator_id}", session=session)  # fmt: skip
    except publishing.NoIndicator:
        raise web.HTTPNotFound() from None
    return redirect(VALUE.format(slug=community.slug) + "?done=removed")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(VALUE, value_get)
    app.router.add_post(VALUE, add)
    app.router.add_post(VALUE + r"/{indicator:\d{1,9}}/remove", remove)
    add_page(app, "Value", VALUE, "community")
