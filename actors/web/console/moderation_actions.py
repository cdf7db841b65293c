"""Removed posts and bans on a community's Moderation page: remove a post (and restore
it), lock or unlock a thread, ban an actor (their posts removed too, if asked) and lift a
ban. Each goes through ``actors.moderation.removals`` and ``actors.moderation.bans``, what
``copub remove|restore|lock|unlock|ban|unban`` call, as the signed-in :class:`Moderator`,
audited in its transaction. The bans listed are the community's blocks of an actor (the
People page lists them with the domains)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from actors.community import Community
from actors.errors import CopubError, Invalid, NotFound
from actors.followers import ACTOR
from actors.hooks import ObjectObserver
from actors.html import plain_text
from actors.moderation import bans, removals
from actors.store import mod_actions, participation, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.web.console.account import when
from actors.web.console.auth import Signed, audit, redirect, require_community
from actors.web.console.moderation import (
    MODERATION,
    Section,
    add_section,
    moderation_page,
    moderation_path,
    moderator,
)
from actors.web.keys import OBJECT_OBSERVERS, SESSIONS, URLS
from actors.web.present import Person, person

REMOVALS = MODERATION + "/removals"
LOCKS = MODERATION + "/locks"
BANS = MODERATION + "/bans"
ANCHOR = "removals"
REMOVED_SHOWN = 50  # removed posts listed, the latest removal first
EXCERPT = 200  # characters of a removed post's text
URL_MAX = 2048
OWN_ITEM = (
    "This is the community's own item, not a member's post: withdraw it from the "
    "community's items instead."
)


@dataclass(frozen=True)
class RemovedLine:
    url: str
    author: Person
    excerpt: str
    removed_at: str


@dataclass(frozen=True)
class BanLine:
    actor: Person
    reason: str
    since: str


def _excerpt(row: ObjectRow) -> str:
    text = " ".join(t for t in (row.title, plain_text(row.content_html)) if t)
    return plain_text(text, EXCERPT)


async def load_actions(
    _request: web.Request, session: AsyncSession, community: Community, _who: Signed
) -> dict[str, Any]:
    removed = await mod_actions.removed_posts(session, community.id, REMOVED_SHOWN)
    blocks = [b for b in await social.list_blocks(session, community.id) if b.kind == ACTOR]
    ids = sorted({r.attributed_to for r in removed} | {b.value for b in blocks})
    known = await participation.known_actors(session, ids)
    return {
        "removed": [
            RemovedLine(r.ap_id, person(r.attributed_to, known), _excerpt(r), when(r.removed_at))
            for r in removed
        ],
        "bans": [BanLine(person(b.value, known), b.reason, when(b.created_at)) for b in blocks],
    }


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def _problem(exc: CopubError, community: Community) -> str:
    """The domain's refusal as a sentence; it names the community by its name."""
    if isinstance(exc, removals.OwnItem):
        return OWN_ITEM
    message = exc.message
    if message.startswith(community.slug + " "):
        message = community.name + message[len(community.slug) :]
    return _sentence(message)


async def _refused(
    request: web.Request,
    who: Signed,
    community: Community,
    field: str,
    exc: CopubError,
    values: dict[str, str],
) -> web.Response:
    """The page again (400), the refusal next to ``field``, the form's values kept."""
    errors = {field: _problem(exc, community)}
    return await moderation_page(request, who, community, errors=errors, values=values, status=400)


async def _form(request: web.Request, *names: str) -> dict[str, str]:
    form = await request.post()
    return {name: str(form.get(name, "")) for name in names}


def _observers(request: web.Request) -> list[ObjectObserver]:
    """Plugins' observers of members' posts: told of a removal and a restore."""
    observers: list[ObjectObserver] = request.app[OBJECT_OBSERVERS]
    return observers


def _given(values: dict[str, str], name: str) -> str:
    """A URL field as given (trimmed); 400 past ``URL_MAX`` characters."""
    value = values[name].strip()
    if len(value) > URL_MAX:
        raise web.HTTPBadRequest(reason=f"A URL is at most {URL_MAX} characters long.")
    return value


async def remove(request: web.Request) -> web.StreamResponse:
    """Remove a post from the community (``copub remove``): hidden, followers told."""
    who, community = await require_community(request, request.match_info["slug"])
    values = await _form(request, "remove-url", "remove-reason")
    url = _given(values, "remove-url")
    try:
        async with request.app[SESSIONS].begin() as session:
            changed = await removals.remove_post(
                session, request.app[URLS], community, url, by=moderator(who),
                reason=values["remove-reason"], observers=_observers(request),
            )  # fmt: skip
            if changed:
                await audit(request, "post.remove", community=community, detail=url,
                            session=session)  # fmt: skip
    except (Invalid, NotFound) as exc:
        return await _refused(request, who, community, "remove-url", exc, values)
    done = "removed" if changed else "not_shown"
    return redirect(moderation_path(community.slug, done=done, anchor=ANCHOR))


async def restore(request: web.Request) -> web.StreamResponse:
    """Show a removed post again (``copub restore``)."""
    who, community = await require_community(request, request.match_info["slug"])
    url = _given(await _form(request, "url"), "url")
    try:
        async with request.app[SESSIONS].begin() as session:
            changed = await removals.restore_post(
                session, request.app[URLS], community, url, by=moderator(who),
                observers=_observers(request),
            )  # fmt: skip
            if changed:
                await audit(request, "post.restore", community=community, detail=url,
                            session=session)  # fmt: skip
    except (Invalid, NotFound):
        raise web.HTTPNotFound(reason="This community holds no such post.") from None
    done = "restored" if changed else "not_removed"
    return redirect(moderation_path(community.slug, done=done, anchor=ANCHOR))


async def lock(request: web.Request) -> web.StreamResponse:
    """Lock (``copub lock``) or unlock (``copub unlock``) the thread a post is in."""
    who, community = await require_community(request, request.match_info["slug"])
    values = await _form(request, "lock-url", "lock-reason", "decision")
    url, decision = _given(values, "lock-url"), values["decision"]
    if decision not in ("lock", "unlock"):
        raise web.HTTPBadRequest(reason="Lock or unlock? Reload the page and try again.")
    urls, by = request.app[URLS], moderator(who)
    try:
        async with request.app[SESSIONS].begin() as session:
            if decision == "lock":
                reason = values["lock-reason"]
                changed = await removals.lock_thread(
                    session, urls, community, url, by=by, reason=reason
                )
            else:
                changed = await removals.unlock_thread(session, urls, community, url, by=by)
            if changed:
                await audit(request, f"thread.{decision}", community=community, detail=url,
                            session=session)  # fmt: skip
    except (Invalid, NotFound) as exc:
        return await _refused(request, who, community, "lock-url", exc, values)
    done = f"{decision}ed" if changed else f"{decision}ed_already"
    return redirect(moderation_path(community.slug, done=done, anchor=ANCHOR))


async def ban(request: web.Request) -> web.StreamResponse:
    """Ban an actor from the community (``copub ban``), their posts removed if asked."""
    who, community = await require_community(request, request.match_info["slug"])
    values = await _form(request, "ban-actor", "ban-reason", "ban-remove-posts")
    actor, remove_posts = _given(values, "ban-actor"), values["ban-remove-posts"] == "on"
    try:
        async with request.app[SESSIONS].begin() as session:
            banned = await bans.ban(
                session, request.app[URLS], community, actor, by=moderator(who),
                reason=values["ban-reason"], remove_posts=remove_posts,
                observers=_observers(request),
            )  # fmt: skip
            if banned.added or banned.removed:
                removed = f"; removed {len(banned.removed)} posts" if remove_posts else ""
                await audit(request, "actor.ban", community=community,
                            detail=f"{banned.actor}{removed}", session=session)  # fmt: skip
    except (Invalid, NotFound) as exc:
        return await _refused(request, who, community, "ban-actor", exc, values)
    done = ("banned" if banned.added else "banned_already") + ("_removed" if remove_posts else "")
    return redirect(moderation_path(community.slug, done=done, anchor="bans"))


async def unban(request: web.Request) -> web.StreamResponse:
    """Lift a ban (``copub unban``)."""
    who, community = await require_community(request, request.match_info["slug"])
    actor = _given(await _form(request, "actor"), "actor")
    try:
        async with request.app[SESSIONS].begin() as session:
            lifted = await bans.unban(session, request.app[URLS], community, actor,
                                      by=moderator(who))  # fmt: skip
            if lifted:
                await audit(request, "actor.unban", community=community, detail=actor,
                            session=session)  # fmt: skip
    except Invalid:
        raise web.HTTPBadRequest(reason="Which ban? Reload the page and try again.") from None
    return redirect(moderation_path(community.slug, done="unbanned" if lifted else "not_banned",
                                    anchor="bans"))  # fmt: skip


def setup_routes(app: web.Application) -> None:
    app.router.add_post(REMOVALS, remove)
    app.router.add_post(REMOVALS + "/restore", restore)
    app.router.add_post(LOCKS, lock)
    app.router.add_post(BANS, ban)
    app.router.add_post(BANS + "/undo", unban)
    add_section(app, Section(ANCHOR, "Removed posts and bans",
                             "console/_moderation_actions.html", load_actions, 30))  # fmt: skip
