"""The fetch gate of members-only communities (actors/members.py, issue 18).

Every route under ``/c/{slug}`` of a members-only community answers only to

- a signed GET (authorized fetch, verified with the server's key resolver) whose key
  belongs to an approved follower or to an actor of a server hosting one, and
- a signed-in console account that coordinates the community (or an admin);

anyone else gets the 404 a missing item gets ("not found", whatever the path), decided
before any handler runs, so neither the body nor the time says whether the thing exists.
Open to all: the actor document (AS2: people ask to join from it; it lists no content), a
short HTML page saying the community is members-only, its inbox (POST) and the
remote-follow form. Digests are not offered for a members-only community: 404 to all.

What a member gets is answered for them alone (never from or into the page cache, no
ETag, ``Cache-Control: private, no-store``) and every AS2 document in it is addressed to
the community's followers wherever it said Public. Membership is read on every request: a
follower removed or gone loses access at once, whatever keys or sessions are cached.
"""

from __future__ import annotations

import json
import logging

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from actors import urls as routes
from actors.accounts import coordinators
from actors.accounts import sessions as console_sessions
from actors.accounts.model import account_of
from actors.community import Community
from actors.members import members_addressed
from actors.store import accounts, members
from actors.store.db import begin_deferred
from actors.web.console.state import CONSOLE
from actors.web.keys import DIRECTORY, KEY_RESOLVER, SESSIONS, URLS
from actors.web.negotiation import wants_html
from actors.web.page_cache import PAGE_CACHE, PRIVATE_ANSWER
from federation.errors import FederationError, NotFound
from federation.httpsig import require_signed_get
from federation.httpsig.web import SIGNATURE_KEY

log = logging.getLogger(__name__)

COMMUNITY_PREFIX = routes.COMMUNITY  # /c/{slug}: every route of a community starts so
OPEN = frozenset({routes.COMMUNITY_INBOX, routes.COMMUNITY_REMOTE_FOLLOW})
MISSING_OID = "~"  # never an item's id (actors/urls.py: letters and digits)
NOT_OFFERED = frozenset(  # email digests: not offered for a members-only community
    {
        routes.COMMUNITY_DIGEST,
        routes.COMMUNITY_DIGEST_CONFIRM,
        routes.COMMUNITY_DIGEST_UNSUBSCRIBE,
        routes.COMMUNITY_DIGEST_ATOM,
    }
)


def route_of(request: web.Request) -> str | None:
    """The route template the request matched (``/c/{slug}/o/{oid}``), if any."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def members_gate(scheme: str) -> Middleware:
    """The middleware; ``scheme`` the server's (for verifying signatures)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        slug = request.match_info.get("slug")
        route = route_of(request)
        if slug is None or route is None or not route.startswith(COMMUNITY_PREFIX):
            return await handler(request)  # the console checks its own (coordinators only)
        if route in OPEN or (route == routes.COMMUNITY_OUTBOX and request.method == "POST"):
            return await handler(request)  # the authoring API checks its own tokens
        if DIRECTORY not in request.app:
            return await handler(request)
        community = await request.app[DIRECTORY].get(slug)
        if community is None:
            return await handler(request)
        # the directory keeps a community for seconds: one that looks public is read
        # afresh (just made members-only, or public again keeping items for its members)
        if not community.members_only:
            members_only, gated_items = await _visibility_now(request, community)
            if members_only:  # made so since the directory read it: its actor document too
                request.app[DIRECTORY].forget(slug)
            else:
                return await _maybe_kept(request, handler, community, scheme, gated_items)
        request[PRIVATE_ANSWER] = True  # never the public page cache's
        if route in NOT_OFFERED:
            raise web.HTTPNotFound()
        if route == routes.COMMUNITY and not wants_html(request):
            return await handler(request)  # the actor document, the same for all: no content
        if route == routes.COMMUNITY and not await viewer_allowed(request, community, scheme):
            return _members_only_page(request, community)  # its page, to a browser
        return await _for_members(request, handler, community, scheme)

    return middleware


async def _maybe_kept(
    request: web.Request,
    handler: Handler,
    community: Community,
    scheme: str,
    gated_items: bool,
) -> web.StreamResponse:
    """A public community's answer, or, for an item it kept for its members when it went
    public, the members' answer (the 404 of a missing item to anyone else); an item it
    does not have takes the same path, so that its 404 takes the same time."""
    kept, until = await _a_gated_item(request, community, gated_items)
    if not kept:
        return await handler(request)
    if not await viewer_allowed(request, community, scheme, until=until):
        return await _as_missing(request, handler)
    return await _for_members(request, handler, community, scheme, until=until)


async def _for_members(
    request: web.Request,
    handler: Handler,
    community: Community,
    scheme: str,
    *,
    until: int | None = None,
) -> web.StreamResponse:
    """The handler's answer to a member or coordinator, the 404 of a missing thing to
    anyone else."""
    request[PRIVATE_ANSWER] = True
    if not await viewer_allowed(request, community, scheme, until=until):
        raise web.HTTPNotFound()
    response = await handler(request)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.popall("ETag", None)
    response.headers.popall("Last-Modified", None)
    return _readdressed(request, community, response)


async def _as_missing(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's own answer for an item that does not exist (a public community's
    404s say what was missing: "no such event", "no such item"), never the item's."""
    request[PRIVATE_ANSWER] = True
    if "oid" not in request.match_info:
        raise NotFound("no such item")  # a thread's ?post=, as the handler says it
    request.match_info["oid"] = MISSING_OID
    return await handler(request)


async def _a_gated_item(
    request: web.Request, community: Community, gated_items: bool
) -> tuple[bool, int | None]:
    """Whether the request names an item the community kept for its members when it
    went public (``objects.members_only``), by ``{oid}`` or a thread's ``?post=``, or an
    item it does not have; and the last follower row of its members."""
    oid = request.match_info.get("oid")
    ap_id = request.app[URLS].object(community.slug, oid) if oid else request.query.get("post")
    if not gated_items or not ap_id:
        return False, None
    async with request.app[SESSIONS]() as session:
        return await members.kept_or_missing(session, community.id, ap_id)


async def _visibility_now(request: web.Request, community: Community) -> tuple[bool, bool]:
    """Whether it is members-only and whether it keeps items for its members, read
    afresh: through the page cache's version reader (one row by its slug, ~10 µs on
    SQLite), else a session."""
    if PAGE_CACHE in request.app:
        found = await request.app[PAGE_CACHE].version_for(request, community.slug)
        return (found.members_only, found.gated_items) if found else (False, False)
    async with request.app[SESSIONS]() as session:
        return await members.visibility_now(session, community.id)


async def viewer_allowed(
    request: web.Request, community: Community, scheme: str, *, until: int | None = None
) -> bool:
    """An approved follower (up to the row ``until``) or their server by a valid
    signature, or a coordinator."""
    signer = await _signer(request, scheme)
    if signer is not None:
        async with request.app[SESSIONS]() as session:
            if await members.may_fetch(session, community.id, signer, until=until):
                return True
    return await _coordinator(request, community)


async def _signer(request: web.Request, scheme: str) -> str | None:
    if SIGNATURE_KEY in request:  # secure mode verified it already
        return request[SIGNATURE_KEY].owner
    if "Signature" not in request.headers and "Signature-Input" not in request.headers:
        return None
    if request.method not in ("GET", "HEAD") or KEY_RESOLVER not in request.app:
        return None
    try:
        verified = await require_signed_get(request, request.app[KEY_RESOLVER], scheme=scheme)
    except FederationError as exc:  # a bad signature is nobody: the same 404
        log.info("members-only fetch with a bad signature: %s", exc.reason)
        return None
    request[SIGNATURE_KEY] = verified
    return verified.owner


async def _coordinator(request: web.Request, community: Community) -> bool:
    if CONSOLE not in request.app:
        return False
    state = request.app[CONSOLE]
    token = request.cookies.get(state.cookies.session, "")
    if not token:
        return False
    async with begin_deferred(request.app[SESSIONS]) as session:
        row = await console_sessions.find(session, token, state.sessions, state.clock.now())
        account = await accounts.get_account(session, row.account_id) if row else None
        if account is None:
            return False
        return await coordinators.may_work_on(session, account_of(account), community.id)


def _members_only_page(request: web.Request, community: Community) -> web.Response:
    urls = request.app[URLS]
    response = aiohttp_jinja2.render_template(
        "members_only.html",
        request,
        {"name": community.name, "handle": urls.handle(community.slug)},
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _readdressed(
    request: web.Request, community: Community, response: web.StreamResponse
) -> web.StreamResponse:
    """An AS2 answer addressed to the followers wherever it said Public."""
    if not isinstance(response, web.Response) or "json" not in (response.content_type or ""):
        return response
    body = response.body
    if not isinstance(body, bytes) or b"activitystreams#Public" not in body:
        return response
    try:
        document = json.loads(body)
    except ValueError:
        return response
    if not isinstance(document, dict):
        return response
    document = members_addressed(document, request.app[URLS], community.slug)
    response.body = json.dumps(document, ensure_ascii=False).encode()
    return response
