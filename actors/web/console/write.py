"""Writing in the console: the community's items (``/console/c/{slug}/write``), a new story,
practice or event, an edit (a practice's with its revision note), a deletion after a
confirmation, and the Markdown preview.

Everything is published through ``actors.publishing``, the functions ``copub publish``,
``copub edit`` and ``copub delete`` call: followers get the same Create, Update or Delete.
Each publication, edit and deletion is one transaction with its audit record; a field that
is wrong brings the form back (400) with what was typed and the error next to the field,
and nothing written.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import publishing
from actors.community import Community
from actors.content import MAX_TEXT, InvalidContent, ItemKind
from actors.events import JOIN_MODES
from actors.html import markdown_to_html
from actors.practices import STATUSES
from actors.publishing.common import local_object, short_id
from actors.schedule import describe
from actors.store import dashboard as reads
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import CONSOLE_COMMUNITY
from actors.values import CYCLE_NAMES, CYCLES
from actors.web.console import item_forms, repeat
from actors.web.console.auth import Signed, audit, redirect, render, require_community
from actors.web.console.item_forms import Values
from actors.web.console.state import add_page
from actors.web.keys import SESSIONS, SETTINGS, URLS
from actors.web.present import status_label

WRITE = CONSOLE_COMMUNITY + "/write"
WRITE_KIND = WRITE + "/{kind}"
PREVIEW = CONSOLE_COMMUNITY + "/preview"
ITEM = CONSOLE_COMMUNITY + "/items/{item}"
ITEM_EDIT = ITEM + "/edit"
ITEM_DELETE = ITEM + "/delete"

PER_PAGE = 50
MAX_PAGE = 10_000
KIND_WORDS = {ItemKind.STORY: "story", ItemKind.PRACTICE: "practice", ItemKind.EVENT: "event"}
JOIN_WORDS = {
    "free": "Anyone may join (from Mobilizon, another copub, ...)",
    "restricted": "Restricted: joins from the fediverse are declined",
    "invite": "By invitation only: joins from the fediverse are declined",
}
DONE = {
    "published": "Published: it is on its way to the community's followers.",
    "updated": "Saved: followers get the new version.",
    "unchanged": "Nothing changed, so nothing was sent.",
    "deleted": "Deleted: followers were told, and its page now says it is gone.",
}


def _write_path(community: Community) -> str:
    return WRITE.format(slug=community.slug)


def _editor(who: Signed) -> str:
    """Who wrote a practice's version, as its history shows it."""
    return who.account.actor_url or f"{who.account.username} (console)"


def _kind(request: web.Request) -> ItemKind:
    kind = request.match_info["kind"]
    if kind not in item_forms.KINDS:
        raise web.HTTPNotFound()
    return ItemKind(kind)


async def _item(session: AsyncSession, request: web.Request, community: Community) -> ObjectRow:
    try:
        return await local_object(session, request.app[URLS], community, request.match_info["item"])
    except publishing.NotPublished as exc:
        raise web.HTTPNotFound() from exc


def _form(
    request: web.Request, community: Community, kind: ItemKind, values: Values, *,
    item: ObjectRow | None = None, errors: dict[str, str] | None = None,
    preview: str | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    start = item_forms.start_of(values) if kind == ItemKind.EVENT else None
    rule = None
    if start is not None:
        chosen = values.get("repeat", "")
        rule = values["rrule"] if chosen == repeat.CUSTOM else repeat.rule_for(chosen, start)
    slug = community.slug
    context: dict[str, Any] = {
        "kind": kind,
        "kind_word": KIND_WORDS[kind],
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "item": item,
        "action": (
            ITEM_EDIT.format(slug=slug, item=short_id(item))
            if item is not None
            else WRITE_KIND.format(slug=slug, kind=kind)
        ),
        "preview_url": PREVIEW.format(slug=slug),
        "write_url": _write_path(community),
        "delete_url": ITEM_DELETE.format(slug=slug, item=short_id(item)) if item else None,
        "status_options": [(status, status_label(status, full=True)) for status in STATUSES],
        "cycle_options": [(cycle, CYCLE_NAMES[cycle]) for cycle in CYCLES],
        "join_options": [(mode, JOIN_WORDS.get(mode, mode)) for mode in JOIN_MODES],
        "zone_options": _zone_options(values.get("timezone", "")),
        "repeats": repeat.offered(start),
        "rule_words": describe(rule, start) if rule and start is not None else None,
    }
    return render(request, "console/item_form.html", context, status=status, community=community)


def _zone_options(current: str) -> list[tuple[str, str]]:
    """The zones offered, and the event's own when it is none of them (a zone the API or
    the CLI accepted, or one typed wrong: kept, so that saving does not change it)."""
    names = item_forms.zone_names()
    extra = [current] if current and current not in names else []
    return [(name, name) for name in (*extra, *names)]


def _preview_of(values: Values) -> str:
    return markdown_to_html(values["markdown"][:MAX_TEXT])


# -- the list --------------------------------------------------------------------------------


def _page(request: web.Request) -> int:
    text = request.query.get("page", "1")
    return min(int(text), MAX_PAGE) if text.isdigit() and int(text) > 0 else 1


async def items(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    page = _page(request)
    async with request.app[SESSIONS]() as session:
        lines, total = await reads.local_items(
            session, community.id, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
        )
    context = {
        "lines": lines,
        "total": total,
        "page": page,
        "more": page * PER_PAGE < total,
        "done": DONE.get(request.query.get("done", "")),
        "write_url": _write_path(community),
        "kinds": KIND_WORDS,
    }
    return render(request, "console/items.html", context, community=community)


# -- new -------------------------------------------------------------------------------------


async def new_form(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    kind = _kind(request)
    timezone = request.app[SETTINGS].content.default_timezone
    return _form(request, community, kind, item_forms.blank(kind, timezone))


async def _publish(
    request: web.Request, who: Signed, community: Community, kind: ItemKind, values: Values
) -> ObjectRow:
    urls = request.app[URLS]
    async with request.app[SESSIONS].begin() as session:
        if kind == ItemKind.STORY:
            row = await publishing.publish_story(
                session, urls, community, item_forms.story(values), item_forms.claim(values)
            )
        elif kind == ItemKind.PRACTICE:
            row = await publishing.publish_practice(
                session, urls, community, item_forms.practice(values), editor=_editor(who),
                note=values["note"],
            )  # fmt: skip
        else:
            row = await publishing.publish_event(session, urls, community, item_forms.event(values))
        await audit(request, f"{kind}.publish", community=community, detail=row.ap_id,
                    session=session)  # fmt: skip
    return row


async def create(request: web.Request) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    kind = _kind(request)
    form = await request.post()
    values = item_forms.read(kind, form)
    if form.get("action") == "preview":
        return _form(request, community, kind, values, preview=_preview_of(values))
    try:
        await _publish(request, who, community, kind, values)
    except InvalidContent as exc:
        errors = {item_forms.field_of(exc): exc.message}
        return _form(request, community, kind, values, errors=errors, status=400)
    return redirect(_write_path(community) + "?done=published")


# -- edit ------------------------------------------------------------------------------------


async def edit_form(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    async with request.app[SESSIONS]() as session:
        row = await _item(session, request, community)
    kind = ItemKind(row.kind)
    return _form(request, community, kind, item_forms.values_of(row), item=row)


async def _revise(
    session: AsyncSession, request: web.Request, who: Signed, community: Community,
    row: ObjectRow, values: Values,
) -> None:  # fmt: skip
    urls, ref = request.app[URLS], row.ap_id
    if row.kind == ItemKind.STORY:
        await publishing.edit_story(
            session,
            urls,
            community,
            ref,
            title=values["title"],
            markdown=values["markdown"],
            value=item_forms.claim(values),
        )
    elif row.kind == ItemKind.PRACTICE:
        await publishing.edit_practice(
            session, urls, community, ref, editor=_editor(who), note=values["note"],
            title=values["title"], summary=values["summary"], markdown=values["markdown"],
            tags=item_forms.tags_of(values["tags"]), status=values["status"],
        )  # fmt: skip
    else:
        change = item_forms.event_change(values)
        await publishing.edit_event(session, urls, community, ref, change)
    await audit(request, f"{row.kind}.edit", community=community, detail=ref, session=session)


async def edit(request: web.Request) -> web.StreamResponse:
    who, community = await require_community(request, request.match_info["slug"])
    async with request.app[SESSIONS]() as session:
        row = await _item(session, request, community)
    kind = ItemKind(row.kind)
    form = await request.post()
    values = item_forms.read(kind, form)
    if form.get("action") == "preview":
        return _form(request, community, kind, values, item=row, preview=_preview_of(values))
    try:
        async with request.app[SESSIONS].begin() as session:
            await _revise(session, request, who, community, row, values)
    except InvalidContent as exc:
        errors = {item_forms.field_of(exc): exc.message}
        return _form(request, community, kind, values, item=row, errors=errors, status=400)
    except publishing.Unchanged:
        return redirect(_write_path(community) + "?done=unchanged")
    except publishing.NotPublished as exc:  # deleted meanwhile
        raise web.HTTPNotFound() from exc
    return redirect(_write_path(community) + "?done=updated")


# -- delete ----------------------------------------------------------------------------------


async def delete_form(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    async with request.app[SESSIONS]() as session:
        row = await _item(session, request, community)
    context = {"item": row, "kind_word": KIND_WORDS[ItemKind(row.kind)],
               "write_url": _write_path(community)}  # fmt: skip
    return render(request, "console/item_delete.html", context, community=community)


async def delete(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    urls = request.app[URLS]
    try:
        async with request.app[SESSIONS].begin() as session:
            row = await publishing.delete_item(session, urls, community, request.match_info["item"])
            await audit(request, f"{row.kind}.delete", community=community, detail=row.ap_id,
                        session=session)  # fmt: skip
    except publishing.NotPublished as exc:
        raise web.HTTPNotFound() from exc
    return redirect(_write_path(community) + "?done=deleted")


# -- preview ---------------------------------------------------------------------------------


async def preview(request: web.Request) -> web.StreamResponse:
    """``markdown`` as the public pages show it (the same sanitizer): an HTML fragment for
    the write form's script (which sends the page's token as ``X-CSRF-Token``)."""
    await require_community(request, request.match_info["slug"])
    form = await request.post()
    markdown = form.get("markdown", "")
    if not isinstance(markdown, str) or len(markdown) > MAX_TEXT:
        raise web.HTTPBadRequest(reason=f"The text is longer than {MAX_TEXT} characters.")
    return web.Response(text=markdown_to_html(markdown), content_type="text/html")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(WRITE, items)
    app.router.add_get(WRITE_KIND, new_form)
    app.router.add_post(WRITE_KIND, create)
    app.router.add_get(ITEM_EDIT, edit_form)
    app.router.add_post(ITEM_EDIT, edit)
    app.router.add_get(ITEM_DELETE, delete_form)
    app.router.add_post(ITEM_DELETE, delete)
    app.router.add_post(PREVIEW, preview)
    add_page(app, "Write", WRITE, "community")
