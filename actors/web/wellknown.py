"""Discovery: WebFinger, host-meta, NodeInfo."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from xml.sax.saxutils import quoteattr

from aiohttp import web

from actors.store import links, members, queries, social
from actors.web.keys import DIRECTORY, SESSIONS, URLS
from actors.web.negotiation import json_response
from federation.errors import BadRequest, NotFound
from federation.nodeinfo import NODEINFO_21_PROFILE, nodeinfo_21, nodeinfo_links
from federation.vocab import AS2_MEDIA_TYPE, JRD_MEDIA_TYPE
from federation.webfinger import jrd, parse_acct

SOFTWARE = "copub"


def copub_version() -> str:
    try:
        return version("copub")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


# The moderation actor's preferredUsername (actors/web/activitypub.py): Mastodon takes an
# activity's actor only when WebFinger for name@host leads back to it, the reports copub
# sends included. A community of that name, if there is one, keeps the handle.
MODERATION_USERNAME = "moderation"


def _moderation_jrd(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    actor_id = urls.moderation()
    body = {
        "subject": f"acct:{MODERATION_USERNAME}@{urls.domain}",
        "aliases": [actor_id],
        "links": [{"rel": "self", "type": AS2_MEDIA_TYPE, "href": actor_id}],
    }
    response = json_response(body, content_type=JRD_MEDIA_TYPE)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def webfinger(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    resource = request.query.get("resource")
    if not resource:
        raise BadRequest("missing 'resource' query parameter")
    if resource == urls.moderation():
        return _moderation_jrd(request)
    if resource.startswith(("http://", "https://")):
        slug = urls.community_slug_of(resource)
        if slug is None:
            if urls.is_local(resource):
                raise NotFound(f"no community at {resource}")
            raise BadRequest(f"{resource} is not on this server")
    else:
        slug, host = parse_acct(resource)
        if host != urls.domain.lower():
            raise BadRequest(f"{host} is not this server ({urls.domain})")
        if slug == MODERATION_USERNAME and await request.app[DIRECTORY].get(slug) is None:
            return _moderation_jrd(request)
    await request.app[DIRECTORY].require(slug)
    actor_id = urls.community(slug)
    body = jrd(
        subject=f"acct:{urls.handle(slug)}",
        aliases=[actor_id],
        actor_id=actor_id,
        profile_url=actor_id,
        subscribe=urls.absolute("/authorize_interaction?uri={uri}"),
    )
    response = json_response(body, content_type=JRD_MEDIA_TYPE)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def host_meta(request: web.Request) -> web.Response:
    template = request.app[URLS].absolute("/.well-known/webfinger?resource={uri}")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xml, content_type="application/xrd+xml")


async def nodeinfo_discovery(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    return json_response(nodeinfo_links(urls.nodeinfo(), urls.application()))


async def nodeinfo(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        communities = await queries.list_communities(session)
        local_posts = await social.count_local_objects(session)
        local_posts -= await members.count_members_only_objects(session)  # theirs alone
        linked = await links.count_links(session)
    metadata = {
        "nodeName": urls.domain,
        "communities": [
            {
                "id": urls.community(c.slug),
                "handle": urls.handle(c.slug),
                "name": c.name,
                "closed": c.closed,
                # sister communities it follows (not told of a members-only community)
                "links": 0 if c.members_only else linked.get(c.id, 0),
            }
            for c in communities
        ],
    }
    body = nodeinfo_21(
        software=SOFTWARE,
        version=copub_version(),
        homepage=urls.index(),
        local_posts=local_posts,
        users_total=len(communities),
        open_registrations=False,
        metadata=metadata,
    )
    response = json_response(body, content_type="application/json")
    response.headers["Content-Type"] = NODEINFO_21_PROFILE
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/.well-known/host-meta", host_meta)
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_discovery)
    app.router.add_get("/nodeinfo/2.1", nodeinfo)
