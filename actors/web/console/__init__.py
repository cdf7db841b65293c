"""The copub console (``/console``): server-rendered pages where admins and coordinators
do in the browser what the CLI does, through the same domain functions.

This package is the console's foundation: who signs in and how, what they may open, the
audit log, the base template. Pages (dashboard, write, people, network, tokens, server)
are modules here, each with ``setup_routes(app)`` called from ``setup`` below.

Writing a console page
----------------------
::

    from actors.web.console import auth
    from actors.web.console.state import add_page

    async def dashboard(request: web.Request) -> web.StreamResponse:
        who, community = await auth.require_community(request, request.match_info["slug"])
        ...
        return auth.render(request, "console/dashboard.html", {...}, community=community)

    async def approve(request: web.Request) -> web.StreamResponse:     # a POST
        who, community = await auth.require_community(request, request.match_info["slug"])
        form = await request.post()
        async with request.app[SESSIONS].begin() as session:
            ...                                   # the domain function the CLI calls
            await auth.audit(request, "follower.approve", community=community,
                             detail=actor_id, session=session)
        return auth.redirect(...)                 # 303: post/redirect/get

    def setup_routes(app: web.Application) -> None:
        app.router.add_get("/console/c/{slug}/dashboard", dashboard)
        add_page(app, "Dashboard", "/console/c/{slug}/dashboard", "community")

Guards (``auth``), each returns or raises:

- ``require_account(request) -> Signed``: the signed-in person (``.account``: ``Account``
  with ``id``, ``username``, ``role``, ``is_admin``, ``actor_url``; ``.session_id``;
  ``.csrf``). Not signed in: a GET is redirected to the sign-in page (and comes back
  after it), anything else is 403.
- ``require_community(request, slug) -> CommunityAccess(who, community)``: an admin, or
  a coordinator of that community. Anyone else gets 403 with the same words whether the
  community exists or not (nothing about it in the answer); an admin gets 404 for an
  unknown slug.
- ``require_admin(request) -> Signed``: admins only (403).
- ``signed_in(request) -> Signed | None`` where being signed in is optional.

What the middleware (``auth.console_middleware``) already did before your handler runs,
for every path under ``/console``: found the session (cookie -> server-side row, idle
expiry), refused (403, nothing changed) any POST from another origin or without the
page's CSRF token, and it answers your ``web.HTTPException``s as console error pages (JSON
to scripts that send JSON) and marks every answer ``Cache-Control: no-store``.

Forms: every POST form carries ``<input type="hidden" name="csrf" value="{{ csrf }}">``
(or ``{{ csrf_field(csrf) }}`` from ``console/_forms.html``, whose ``field()`` macro
shows a labelled input with its error next to it and keeps its value); scripts send the
token of ``<meta name="csrf-token">`` as the ``X-CSRF-Token`` header. A form with an
error is rendered again (status 400) with ``errors``/``values``; success redirects (303).

``auth.render(request, template, context, status=200, community=None)``: a page whose
template extends ``console/base.html`` (block ``console_title``, block ``console``, one
``h1``); it gets ``who``, ``csrf``, ``community`` (shows its navigation), ``nav``,
``urls`` and ``path``. Styles go in ``/static/console.css``, scripts in ``/static/``
files (the page policy allows no inline script or style).

``auth.audit(request, action, community=None, detail="", session=None)``: records who
(the signed-in account), what (``action``, a dotted name), when, from where (the request's
address) and in which community; pass ``session`` to write it in the transaction of the
action itself. Admins read it through ``actors.store.audit.entries``.

``state.add_page(app, label, path, scope)``: the page in the navigation; ``scope`` is
``community`` (``path`` has ``{slug}``), ``server`` (shown to admins) or ``account``.
``auth.state_of(request).clock.now()`` is the console's time (tests replace it).

Accounts themselves (``actors.accounts``): ``invites.coordinator_invite`` makes the
one-time link an admin gives a coordinator (``Urls.console_invite(link.token)``),
``coordinators.communities_of/give_community/take_community`` what a coordinator
coordinates, ``actors.store.accounts.coordinators_of`` who coordinates a community.
"""

from __future__ import annotations

from aiohttp import web

from actors.settings import Settings
from actors.web.console import (
    account,
    dashboard,
    home,
    links,
    moderation,
    moderation_actions,
    moderation_reports,
    moderation_rules,
    network,
    participants,
    passkeys,
    people,
    people_team,
    server_audit,
    server_communities,
    server_coordinators,
    server_deliveries,
    server_reports,
    signin,
    tokens,
    value,
    write,
)
from actors.web.console.auth import console_middleware
from actors.web.console.state import CONSOLE, ConsoleState

__all__ = ["console_middleware", "setup"]


def setup(app: web.Application, settings: Settings) -> None:
    """The console's state and routes (its middleware is in ``create_app``'s list)."""
    app[CONSOLE] = ConsoleState.of(settings)
    home.setup_routes(app)
    dashboard.setup_routes(app)
    write.setup_routes(app)
    signin.setup_routes(app)
    links.setup_routes(app)
    account.setup_routes(app)
    passkeys.setup_routes(app)
    people.setup_routes(app)  # 3. People
    people_team.setup_routes(app)
    participants.setup_routes(app)
    network.setup_routes(app)  # 4. Network
    moderation.setup_routes(app)  # Moderation: held posts, then the sections added below
    moderation_rules.setup_routes(app)
    moderation_reports.setup_routes(app)
    moderation_actions.setup_routes(app)
    value.setup_routes(app)  # Value: indicators of value creation
    tokens.setup_routes(app)  # 5. Tokens
    server_communities.setup_routes(app)  # 6. Server (admins)
    server_coordinators.setup_routes(app)
    server_deliveries.setup_routes(app)
    server_reports.setup_routes(app)
    server_audit.setup_routes(app)
