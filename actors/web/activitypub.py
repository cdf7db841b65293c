"""ActivityPub JSON routes: the Group actors, their collections, the Application actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from actors import urls as routes
from actors.community import Community, community_to_group
from actors.store import links, queries, social
from actors.store.states import FollowerState
from actors.web.community_page import render_community
from actors.web.keys import DIRECTORY, SERVER_PUBLIC_KEY_PEM, SESSIONS, URLS
from actors.web.negotiation import activity_body_response, activity_response, dumps, wants_html
from federation.collections import collection_page, collection_root, parse_page
from federation.vocab import AS_CONTEXT, SECURITY_CONTEXT

# (page number, page size) -> (items of that page, total)
PageLoader = Callable[[Community, int, int], Awaitable[tuple[list[Any], int]]]

PAGE_SIZE = 20


async def load_community(request: web.Request) -> Community:
    """The community the route's ``{slug}`` names; NotFound (404) if there is none."""
    return await request.app[DIRECTORY].require(request.match_info["slug"])


async def community_actor(request: web.Request) -> web.StreamResponse:
    community = await load_community(request)
    urls = request.app[URLS]
    if wants_html(request):
        return await render_community(request, community)
    directory = request.app[DIRECTORY]
    body = directory.cached_body(community.slug, "actor")
    if body is None:
        body = dumps(community_to_group(community, urls)).encode()
        directory.store_body(community.slug, "actor", body)
    return activity_body_response(body)


async def _empty(_community: Community, _page: int, _size: int) -> tuple[list[Any], int]:
    return [], 0


def collection_handler(
    build_id: Callable[[routes.Urls, str], str],
    loader: PageLoader,
    *,
    inline: int = 0,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A paged collection; ``inline``: the root also lists the items (``orderedItems``)
    when there are at most that many (Lemmy reads a community's moderators there only)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        community = await load_community(request)
        collection_id = build_id(request.app[URLS], community.slug)
        page = parse_page(request.query.get("page"))
        if page is None:
            items, total = await loader(community, 1, inline)
            root = collection_root(collection_id, total, page_size=PAGE_SIZE)
            if inline and total <= inline:
                root["orderedItems"] = items
            return activity_response(root)
        items, total = await loader(community, page, PAGE_SIZE)
        return activity_response(
            collection_page(collection_id, page, items, total, page_size=PAGE_SIZE)
        )

    return handler


def outbox_loader(app: web.Application) -> PageLoader:
    async def load(community: Community, page: int, size: int) -> tuple[list[Any], int]:
        async with app[SESSIONS]() as session:
            total = await social.count_outbox(session, community.id)
            if not size:
                return [], total
            rows = await social.list_outbox(
                session, community.id, offset=(page - 1) * size, limit=size
            )
        return [r.ap_json for r in rows], total

    return load


def followers_loader(app: web.Application) -> PageLoader:
    async def load(community: Community, page: int, size: int) -> tuple[list[Any], int]:
        async with app[SESSIONS]() as session:
            total = await social.count_followers(
                session, community.id, state=FollowerState.ACCEPTED
            )
            if not size:
                return [], total
            ids = await social.list_followers(
                session,
                community.id,
                state=FollowerState.ACCEPTED,
                offset=(page - 1) * size,
                limit=size,
            )
        return ids, total

    return load


def following_loader(app: web.Application) -> PageLoader:
    """The community's accepted links: the Groups it follows."""

    async def load(community: Community, page: int, size: int) -> tuple[list[Any], int]:
        async with app[SESSIONS]() as session:
            return await links.following_ids(
                session, community.id, offset=(page - 1) * size, limit=size
            )

    return load


MODERATORS_INLINE = 100  # a community's coordinators, listed in the collection itself


def moderators_loader(request_app: web.Application) -> PageLoader:
    async def load(community: Community, page: int, size: int) -> tuple[list[Any], int]:
        async with request_app[SESSIONS]() as session:
            mods = await queries.list_moderators(session, community.id)
        start = (page - 1) * size
        return (mods[start : start + size] if size else []), len(mods)

    return load


async def application_actor(request: web.Request) -> web.StreamResponse:
    """The server's own actor (FEP-2677), which signs fetches made on no community's behalf."""
    urls = request.app[URLS]
    actor_id = urls.application()
    return activity_response(
        {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": actor_id,
            "type": "Application",
            "preferredUsername": urls.domain,
            "name": "copub",
            "summary": "The copub server itself; it signs requests made for no community.",
            "url": urls.index(),
            "inbox": urls.shared_inbox(),
            "outbox": actor_id + "/outbox",
            "manuallyApprovesFollowers": True,
            "publicKey": {
                "id": urls.application_key(),
                "owner": actor_id,
                "publicKeyPem": request.app[SERVER_PUBLIC_KEY_PEM],
            },
        }
    )


async def moderation_actor(request: web.Request) -> web.StreamResponse:
    """The server's moderators as one ``Service`` actor, with the server's key: the actor
    of the reports copub sends and of its coordinators' removals, locks, bans and
    moderator changes. Lemmy accepts those only from a Person, Service or Organization
    (an actor on the community's own host counts as its instance's moderator); the
    person who acted stays unnamed, as a report from an instance actor does."""
    urls = request.app[URLS]
    actor_id = urls.moderation()
    return activity_response(
        {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": actor_id,
            "type": "Service",
            "preferredUsername": "moderation",
            "name": f"{urls.domain} moderation",
            "summary": "The coordinators of the communities on this copub server.",
            "url": urls.index(),
            "inbox": urls.shared_inbox(),
            "outbox": urls.moderation_outbox(),
            "manuallyApprovesFollowers": True,
            "publicKey": {
                "id": urls.moderation_key(),
                "owner": actor_id,
                "publicKeyPem": request.app[SERVER_PUBLIC_KEY_PEM],
            },
        }
    )


async def moderation_outbox(request: web.Request) -> web.StreamResponse:
    """What the moderation actor shows: nothing (its activities go to whom they concern)."""
    return activity_response(collection_root(request.app[URLS].moderation_outbox(), 0))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(routes.COMMUNITY, community_actor)
    app.router.add_get(
        routes.COMMUNITY_OUTBOX,
        collection_handler(routes.Urls.community_outbox, outbox_loader(app)),
    )
    app.router.add_get(
        routes.COMMUNITY_FOLLOWERS,
        collection_handler(routes.Urls.community_followers, followers_loader(app)),
    )
    app.router.add_get(
        routes.COMMUNITY_FOLLOWING,
        collection_handler(routes.Urls.community_following, following_loader(app)),
    )
    app.router.add_get(
        routes.COMMUNITY_FEATURED, collection_handler(routes.Urls.community_featured, _empty)
    )
    app.router.add_get(
        routes.COMMUNITY_MODERATORS,
        collection_handler(
            routes.Urls.community_moderators, moderators_loader(app), inline=MODERATORS_INLINE
        ),
    )
    app.router.add_get(routes.APPLICATION, application_actor)
    app.router.add_get(routes.MODERATION, moderation_actor)
    app.router.add_get(routes.MODERATION_OUTBOX, moderation_outbox)
