"""The authoring API: ``POST /c/{slug}/outbox`` with ``Authorization: Bearer TOKEN``.

ActivityPub client-to-server, for coordinators' tools: Create, Update or Delete of a story
(Note), a practice (Article) or an event (Event). What is accepted is published exactly as
the CLI publishes it (``actors.publishing``). Answers are JSON: 201 with ``Location`` (the new
object) for a Create, 200 for an Update or Delete, 400 ``{"error", "field"}`` for a field
that is wrong, 401 with ``WWW-Authenticate: Bearer`` for a missing or unknown token; nothing
is stored unless the answer is 2xx.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from actors import publishing
from actors import urls as routes
from actors.community import Community
from actors.content import ItemKind
from actors.store import tokens
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.urls import Urls
from actors.web import authoring
from actors.web.activitypub import load_community
from actors.web.authoring import CreateItem, Operation, UpdateItem
from actors.web.keys import SESSIONS, SETTINGS, URLS
from actors.web.negotiation import dumps
from federation.wire import ACTIVITY_MEDIA_TYPES, parse_json

log = logging.getLogger(__name__)


class Refused(Exception):
    """An answer other than 2xx; raised inside the transaction so nothing is kept."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(body.get("error"))
        self.status, self.body, self.headers = status, body, headers


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(body), status=status, content_type="application/json", headers=headers
    )


def unauthorized(reason: str) -> Refused:
    challenge = 'Bearer realm="copub", error="invalid_token"'
    return Refused(401, {"error": reason}, {"WWW-Authenticate": challenge})


def bad(field: str, message: str, status: int = 400) -> Refused:
    return Refused(status, {"error": message, "field": field}, {})


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("an Authorization: Bearer token is required")
    return token.strip()


async def _authenticate(session: AsyncSession, request: web.Request, community: Community) -> str:
    """The token's label (who publishes, for a practice's history); Refused(401) otherwise."""
    row = await tokens.find_token(session, _bearer(request))
    if row is None or row.community_id != community.id:
        raise unauthorized("the token is not valid for this community")
    await tokens.touch_token(session, row, datetime.now(UTC))
    return f"{row.label or f'token {row.id}'} (API)"


async def _body(request: web.Request) -> Any:
    if request.content_type not in ACTIVITY_MEDIA_TYPES:
        raise bad("Content-Type", "send application/activity+json", 415)
    try:
        return parse_json(await request.read())
    except ValueError as exc:
        raise bad("body", f"the body is not JSON: {exc}") from exc


async def _create(
    session: AsyncSession, urls: Urls, community: Community, op: CreateItem, editor: str,
    default_tz: str,
) -> ObjectRow:  # fmt: skip
    if op.kind == ItemKind.STORY:
        return await publishing.publish_story(
            session, urls, community, authoring.story_from(op.obj), authoring.claim_from(op.obj)
        )
    if op.kind == ItemKind.PRACTICE:
        draft = authoring.practice_from(op.obj)
        return await publishing.publish_practice(session, urls, community, draft, editor=editor)
    draft_event = authoring.event_from(op.obj, default_tz)
    return await publishing.publish_event(session, urls, community, draft_event)


async def _update(
    session: AsyncSession, urls: Urls, community: Community, op: UpdateItem, editor: str,
    default_tz: str,
) -> ObjectRow:  # fmt: skip
    if op.kind == ItemKind.STORY:
        return await publishing.edit_story(
            session,
            urls,
            community,
            op.ref,
            title=authoring.text_field(op.obj, "name"),
            markdown=authoring.markdown_of(op.obj, required=False),
            # a claim's terms given: the new claim ("valueCycle": null: none); else kept
            value=(
                authoring.claim_from(op.obj)
                if any(k in op.obj for k in authoring.VALUE_KEYS)
                else ...
            ),
        )
    if op.kind == ItemKind.PRACTICE:
        fields = authoring.practice_fields(op.obj)
        return await publishing.edit_practice(
            session, urls, community, op.ref, editor=editor, note=op.note, **fields
        )
    change = authoring.event_change(op.obj, default_tz)
    return await publishing.edit_event(session, urls, community, op.ref, change)


async def _perform(
    session: AsyncSession, request: web.Request, community: Community, op: Operation, editor: str
) -> web.Response:
    urls = request.app[URLS]
    default_tz = request.app[SETTINGS].content.default_timezone
    try:
        if isinstance(op, CreateItem):
            row = await _create(session, urls, community, op, editor, default_tz)
            return _answer(201, row.ap_json, {"Location": row.ap_id})
        if isinstance(op, UpdateItem):
            row = await _update(session, urls, community, op, editor, default_tz)
            return _answer(200, row.ap_json)
        row = await publishing.delete_item(session, urls, community, op.ref)
        return _answer(200, {"id": row.ap_id, "type": "Tombstone", "formerType": row.ap_type})
    except publishing.Unchanged as exc:
        return _answer(200, {"unchanged": True, "message": str(exc)})


async def outbox_post(request: web.Request) -> web.StreamResponse:
    community = await load_community(request)
    try:
        async with request.app[SESSIONS].begin() as session:
            # the token first: a caller without one learns nothing about the payload
            editor = await _authenticate(session, request, community)
            op = authoring.parse_activity(await _body(request))
            response = await _perform(session, request, community, op, editor)
    except Refused as refused:
        log.info(
            "authoring API refused: %s",
            refused.body.get("error"),
            extra={"community": community.slug, "status": refused.status},
        )
        return _answer(refused.status, refused.body, refused.headers)
    log.info(
        "authoring API answered %d %s",
        response.status,
        response.headers.get("Location", ""),
        extra={"community": community.slug, "status": response.status},
    )
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_post(routes.COMMUNITY_OUTBOX, outbox_post)
