"""The server's communities, for admins: create one (``copub community create``: slug,
name, summary, closed) and change one (``copub community edit``: name, summary, profile
fields, closed; its followers get an Update of the Group), through ``actors.founding``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors import founding
from actors.community import Community
from actors.members import Visibility, check_switch
from actors.store import queries
from actors.web.console.auth import audit, redirect, render, require_admin, state_of
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, URLS

SERVER = "/console/server"
COMMUNITIES = SERVER + "/communities"
COMMUNITY = COMMUNITIES + "/{slug}"
FIELD_ROWS = 4  # profile field rows a form offers (more when a community has more)
DONE = {"created": "Community created.", "saved": "Saved: its followers get the new profile.",
        "unchanged": "Nothing changed.",
        "members": f"Saved: {check_switch(Visibility.PUBLIC, Visibility.MEMBERS)}.",
        "public": f"Saved: {check_switch(Visibility.MEMBERS, Visibility.PUBLIC)}.",
        "closed": f"Saved: {check_switch(Visibility.MEMBERS, Visibility.CLOSED)}."}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """What a community form holds (shown again, as typed, when it is refused)."""

    slug: str = ""
    name: str = ""
    summary: str = ""
    closed: bool = False
    fields: tuple[tuple[str, str], ...] = ()
    members_only: bool = False  # visibility 'members' (actors/members.py)

    @classmethod
    def of_form(cls, form: Mapping[str, Any]) -> Profile:
        return cls(
            slug=str(form.get("slug", "")).strip(),
            name=str(form.get("name", "")),
            summary=str(form.get("summary", "")),
            closed=form.get("closed") == "on",
            fields=_fields_of(form),
            members_only=form.get("members_only") == "on",
        )

    @classmethod
    def of(cls, community: Community) -> Profile:
        return cls(community.slug, community.name, community.summary, community.closed,
                   community.profile_fields, community.members_only)  # fmt: skip


def _fields_of(form: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The profile fields of the form (``field-N-name``/``field-N-value``), empty rows
    left out."""
    found = []
    n = 0
    while f"field-{n}-name" in form or f"field-{n}-value" in form:
        name = str(form.get(f"field-{n}-name", "")).strip()
        value = str(form.get(f"field-{n}-value", "")).strip()
        if name or value:
            found.append((name, value))
        n += 1
    return tuple(found)


def _field_rows(fields: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    rows = list(fields)
    return rows + [("", "")] * max(FIELD_ROWS - len(rows), 1)


def _message(exc: founding.InvalidCommunity) -> str:
    text = str(exc)
    return text[0].upper() + text[1:] + "."


async def communities_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    values: Profile | None = None,
    status: int = 200,
) -> web.Response:
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        communities = await queries.list_communities(session)
    values = values or Profile()
    context = {
        "communities": communities,
        "errors": errors or {},
        "values": values,
        "field_rows": _field_rows(values.fields),
        "notice": DONE.get(request.query.get("done", "")),
        "host": request.app[URLS].domain,
    }
    return render(request, "console/server_communities.html", context, status=status)


async def communities_get(request: web.Request) -> web.StreamResponse:
    return await communities_page(request)


async def create(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    values = Profile.of_form(await request.post())
    try:
        async with request.app[SESSIONS].begin() as session:
            community = await founding.create_community(
                session,
                slug=values.slug,
                name=values.name,
                summary=values.summary,
                closed=values.closed,
                profile_fields=values.fields,
                members_only=values.members_only,
            )
            await audit(request, "community.create", community=community, session=session)
    except founding.InvalidCommunity as exc:
        return await communities_page(
            request, errors={exc.field or "name": _message(exc)}, values=values, status=400
        )
    except queries.AlreadyExists:
        taken = f"There is a community {values.slug!r} already: choose another."
        return await communities_page(request, errors={"slug": taken}, values=values, status=400)
    return redirect(COMMUNITY.format(slug=community.slug) + "?done=created")


async def _community(request: web.Request) -> Community:
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        community = await queries.get_community(session, request.match_info["slug"])
    if community is None:
        raise web.HTTPNotFound()
    return community


async def community_page(
    request: web.Request,
    community: Community,
    *,
    errors: dict[str, str] | None = None,
    values: Profile | None = None,
    status: int = 200,
) -> web.Response:
    shown = values or Profile.of(community)
    context = {
        "edited": community,
        "errors": errors or {},
        "values": shown,
        "field_rows": _field_rows(shown.fields),
        "notice": DONE.get(request.query.get("done", "")),
        "here": COMMUNITY.format(slug=community.slug),
    }
    return render(request, "console/server_community.html", context, status=status)


async def community_get(request: web.Request) -> web.StreamResponse:
    return await community_page(request, await _community(request))


async def update(request: web.Request) -> web.StreamResponse:
    community = await _community(request)
    values = Profile.of_form(await request.post())
    try:
        async with request.app[SESSIONS].begin() as session:
            updated = await founding.update_community(
                session,
                request.app[URLS],
                community,
                name=values.name,
                summary=values.summary,
                closed=values.closed,
                profile_fields=values.fields,
                now=state_of(request).clock.now(),
                visibility=_visibility(values),
            )
            if updated != community:
                await audit(request, "community.edit", community=updated,
                            detail=_changes(community, updated), session=session)  # fmt: skip
    except founding.InvalidCommunity as exc:
        return await community_page(
            request, community, errors={exc.field or "name": _message(exc)}, values=values,
            status=400,
        )  # fmt: skip
    done = "saved" if updated != community else "unchanged"
    if updated.members_only != community.members_only:  # what it means, said to them
        done = Visibility.of(updated).value
    return redirect(COMMUNITY.format(slug=community.slug) + f"?done={done}")


def _visibility(values: Profile) -> Visibility:
    if values.members_only:
        return Visibility.MEMBERS
    return Visibility.CLOSED if values.closed else Visibility.PUBLIC


def _changes(before: Community, after: Community) -> str:
    """What an edit changed, for the audit log (names of the parts, not their text)."""
    parts = {
        "name": before.name != after.name,
        "summary": before.summary != after.summary,
        "fields": before.profile_fields != after.profile_fields,
        "closed" if after.closed else "opened": before.closed != after.closed,
        "members-only": before.members_only != after.members_only,
    }
    return ", ".join(part for part, changed in parts.items() if changed)


async def server_home(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    return redirect(COMMUNITIES)


def setup_routes(app: web.Application) -> None:
    app.router.add_get(SERVER, server_home)
    app.router.add_get(COMMUNITIES, communities_get)
    app.router.add_post(COMMUNITIES, create)
    app.router.add_get(COMMUNITY, community_get)
    app.router.add_post(COMMUNITY, update)
    add_page(app, "Manage communities", COMMUNITIES, "server")
