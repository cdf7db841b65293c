"""The rules on a community's Moderation page: its moderation settings (posting policy,
first posts held, posts an hour, names in the public log: ``copub community edit``) and
its word and link filters (``copub filters``); admins also keep the server's filters
there. Through ``actors.moderation.settings`` and ``actors.moderation.filters``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.community import Community, PostingPolicy
from actors.moderation import filters
from actors.moderation import settings as rules
from actors.store.db import AsyncSession
from actors.web.console.auth import Signed, audit, redirect, require_community, state_of
from actors.web.console.moderation import (
    MODERATION,
    Section,
    add_section,
    moderation_page,
    moderation_path,
)
from actors.web.keys import SESSIONS, URLS

SETTINGS = MODERATION + "/settings"
FILTERS = MODERATION + "/filters"
SERVER_FILTERS = MODERATION + "/server-filters"
POLICIES = [
    (PostingPolicy.ANYONE.value, "Anyone: every post that mentions the community"),
    (PostingPolicy.FOLLOWERS.value, "Followers: the others' posts are held"),
    (PostingPolicy.MEMBERS.value, "Members: followers with a post relayed before"),
    (PostingPolicy.COORDINATORS.value, "Coordinators only: everyone else's posts are held"),
]
KINDS = [("word", "A word or phrase"), ("domain", "A link to a domain")]
WHICH = "Which filter? Reload the page and try again."


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


async def load_settings(
    _request: web.Request, _session: AsyncSession, community: Community, _who: Signed
) -> dict[str, Any]:
    return {"current": rules.ModerationSettings.of(community), "policies": POLICIES}


async def save_settings(request: web.Request) -> web.StreamResponse:
    """The moderation settings (``copub community edit --posting-policy ...``)."""
    who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("posting_policy", "posts_per_hour")}
    before = rules.ModerationSettings.of(community)
    try:
        wanted = rules.with_changes(
            before,
            posting_policy=values["posting_policy"],
            hold_first_posts=form.get("hold_first_posts") == "on",
            posts_per_hour=values["posts_per_hour"],
            modlog_names=form.get("modlog_names") == "on",
        )
    except rules.InvalidModerationSettings as exc:
        return await moderation_page(
            request, who, community, errors={exc.field or "posting_policy": _sentence(exc.message)},
            values=values, status=400,
        )  # fmt: skip
    if wanted == before:
        return redirect(moderation_path(community.slug, done="unchanged", anchor="settings"))
    async with request.app[SESSIONS].begin() as session:
        await rules.update_moderation_settings(
            session, request.app[URLS], community, wanted, now=state_of(request).clock.now()
        )
        await audit(request, "moderation.settings", community=community,
                    detail=wanted.changes(before), session=session)  # fmt: skip
    return redirect(moderation_path(community.slug, done="saved", anchor="settings"))


async def load_filters(
    _request: web.Request, session: AsyncSession, community: Community, _who: Signed
) -> dict[str, Any]:
    found = await filters.filters_for(session, community.id)
    return {
        "community": [f for f in found if not f.server_wide],
        "server": [f for f in found if f.server_wide],
        "kinds": KINDS,
    }


async def _change_filter(request: web.Request, *, server: bool, add: bool) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    if server and not who.is_admin:
        raise web.HTTPForbidden(reason="Only an admin can change the server's filters.")
    form = await request.post()
    prefix = "server-filter" if server else "filter"
    kind, value = str(form.get(f"{prefix}-kind", "")), str(form.get(f"{prefix}-value", ""))
    try:
        wanted = filters.parse_filter(kind, value)
    except filters.InvalidFilter as exc:
        if not add:
            raise web.HTTPBadRequest(reason=WHICH) from None
        return await moderation_page(
            request, who, community, errors={f"{prefix}-value": _sentence(exc.message)},
            values={f"{prefix}-kind": kind, f"{prefix}-value": value}, status=400,
        )  # fmt: skip
    scope = None if server else community.id
    async with request.app[SESSIONS].begin() as session:
        change = filters.add_filter if add else filters.remove_filter
        changed = await change(session, scope, wanted)
        if changed:
            action = f"{'server_' if server else ''}filter.{'add' if add else 'remove'}"
            await audit(request, action, community=community, detail=str(wanted),
                        session=session)  # fmt: skip
    done = ("filter_added" if changed else "filter_known") if add else "filter_removed"
    return redirect(moderation_path(community.slug, done=done, anchor="filters"))


async def add_filter(request: web.Request) -> web.StreamResponse:
    return await _change_filter(request, server=False, add=True)


async def remove_filter(request: web.Request) -> web.StreamResponse:
    return await _change_filter(request, server=False, add=False)


async def add_server_filter(request: web.Request) -> web.StreamResponse:
    return await _change_filter(request, server=True, add=True)


async def remove_server_filter(request: web.Request) -> web.StreamResponse:
    return await _change_filter(request, server=True, add=False)


def setup_routes(app: web.Application) -> None:
    app.router.add_post(SETTINGS, save_settings)
    app.router.add_post(FILTERS, add_filter)
    app.router.add_post(FILTERS + "/remove", remove_filter)
    app.router.add_post(SERVER_FILTERS, add_server_filter)
    app.router.add_post(SERVER_FILTERS + "/remove", remove_server_filter)
    add_section(app, Section("settings", "Who may post", "console/_moderation_settings.html",
                             load_settings, 40))  # fmt: skip
    add_section(app, Section("filters", "Filters", "console/_moderation_filters.html",
                             load_filters, 50))  # fmt: skip
