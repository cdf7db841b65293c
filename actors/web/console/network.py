"""The Network page of a community: its links with sister communities elsewhere, as
``copub link|unlink|link-policy|links`` make and show them, through ``actors.links``.

Linking takes two steps: the handle (``@name@host``) or URL is resolved first (WebFinger,
then the actor fetched with a GET signed by the community: ``links.resolve_group``) and
the Group found is shown (name, handle, server, its summary sanitized) with a button that
confirms; only the confirmation writes the link and sends the Follow."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import links as linking
from actors.community import Community
from actors.html import sanitize
from actors.store import links as store
from actors.store.models import RemoteActorRow
from actors.urls import CONSOLE_COMMUNITY
from actors.web.console.account import when
from actors.web.console.auth import audit, redirect, render, require_community
from actors.web.console.state import add_page
from actors.web.keys import REMOTE, SESSIONS, URLS
from federation.client import RemoteStatusError
from federation.errors import BadRequest, FederationError, UnsafeAddress
from federation.origins import host_of

NETWORK = CONSOLE_COMMUNITY + "/network"
TARGET_MAX = 2048
POLICY_LABELS = {
    "none": "Show what comes over the link on the community's page only",
    "announce": "Also share it with this community's followers (Announce)",
}
DONE = {
    "asked": "Link asked for: it is pending until the other community accepts.",
    "linked": "Saved: the communities were linked already.",
    "unlinked": "Unlinked.",
    "policy": "Policy changed.",
}


def problem_of(target: str, exc: Exception) -> str:
    """What went wrong finding ``target``, in words for the coordinator."""
    if isinstance(exc, linking.LinkError) and not isinstance(exc.__cause__, BadRequest):
        message = str(exc)
        return message[0].upper() + message[1:] + "."
    if isinstance(exc, BadRequest) or isinstance(exc.__cause__, BadRequest):
        return "Give a community's handle (@name@server.example) or its URL (https://...)."
    if isinstance(exc, UnsafeAddress):
        return f"{target} is on a private or local address, which this server may not contact."
    if isinstance(exc, RemoteStatusError) and exc.status in (404, 410):
        return f"No community {target} was found: its server answered {exc.status}."
    reason = exc.reason if isinstance(exc, FederationError) else str(exc)
    return f"{target} could not be reached or read: {reason}."


def group_view(group: RemoteActorRow) -> dict[str, str]:
    """What the coordinator sees of the Group found: its summary sanitized as the public
    pages sanitize remote HTML."""
    summary = group.ap_json.get("summary") if isinstance(group.ap_json, dict) else None
    return {
        "id": group.ap_id,
        "name": group.name or group.handle or group.ap_id,
        "handle": group.handle or "",
        "server": host_of(group.ap_id) or "",
        "url": group.url or group.ap_id,
        "summary": sanitize(summary) if isinstance(summary, str) else "",
    }


async def network_page(
    request: web.Request,
    community: Community,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with request.app[SESSIONS]() as session:
        outgoing = await store.list_links(session, community.id)
        actors = await store.remote_actors(session, [r.remote_actor_id for r in outgoing])
        incoming = await store.incoming_links(session, community.id)
    links = []
    for row in outgoing:
        known = actors.get(row.remote_actor_id)
        links.append(
            {
                "actor": row.remote_actor_id,
                "name": (known.name or known.handle) if known else None,
                "handle": known.handle if known else None,
                "state": str(row.state),
                "policy": row.policy,
                "since": when(row.created_at),
            }
        )
    context: dict[str, Any] = {
        "here": NETWORK.format(slug=community.slug),
        "links": links,
        "incoming": [
            {
                "actor": actor.ap_id,
                "name": actor.name or actor.handle,
                "handle": actor.handle,
                "state": str(follower.state),
                "url": actor.url or actor.ap_id,
            }
            for follower, actor in incoming
        ],
        "policies": POLICY_LABELS,
        "errors": errors or {},
        "values": values or {},
        "notice": DONE.get(request.query.get("done", "")),
    }
    return render(request, "console/network.html", context, status=status, community=community)


async def network_get(request: web.Request) -> web.StreamResponse:
    _who, community = await require_community(request, request.match_info["slug"])
    return await network_page(request, community)


async def _resolve(request: web.Request, community: Community, target: str) -> RemoteActorRow:
    return await linking.resolve_group(request.app[REMOTE], community, target)


async def find(request: web.Request) -> web.StreamResponse:
    """Step one: the Group the handle or URL names, shown before anything is written."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    target = str(form.get("target", "")).strip()
    policy = str(form.get("policy", linking.DEFAULT_POLICY))
    values = {"target": target, "policy": policy}
    if not target or len(target) > TARGET_MAX:
        problem = "Give a community's handle (@name@server.example) or its URL (https://...)."
        return await network_page(request, community, errors={"target": problem},
                                  values=values, status=400)  # fmt: skip
    try:
        group = await _resolve(request, community, target)
    except (linking.LinkError, FederationError) as exc:
        return await network_page(request, community, errors={"target": problem_of(target, exc)},
                                  values=values, status=400)  # fmt: skip
    async with request.app[SESSIONS]() as session:
        existing = await store.get_link(session, community.id, group.ap_id)
    context = {
        "group": group_view(group),
        "existing": str(existing.state) if existing is not None else None,
        "policy": policy if policy in POLICY_LABELS else (
            existing.policy if existing is not None else linking.DEFAULT_POLICY),
        "policies": POLICY_LABELS,
        "here": NETWORK.format(slug=community.slug),
    }  # fmt: skip
    return render(request, "console/network_confirm.html", context, community=community)


async def link(request: web.Request) -> web.StreamResponse:
    """Step two, confirmed: the community follows the Group (``copub link``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    actor, policy = str(form.get("actor", "")), str(form.get("policy", ""))
    if not linking.is_url(actor) or policy not in linking.POLICIES:
        raise web.HTTPBadRequest(reason="Which community, with which policy? Start again.")
    try:
        group = await _resolve(request, community, actor)
    except (linking.LinkError, FederationError) as exc:
        return await network_page(request, community, errors={"target": problem_of(actor, exc)},
                                  values={"target": actor}, status=400)  # fmt: skip
    async with request.app[SESSIONS].begin() as session:
        result = await linking.link(session, request.app[URLS], community, group, policy)
        detail = f"{group.ap_id} policy {result.link.policy}"
        await audit(request, "link.create", community=community, detail=detail, session=session)
    done = "asked" if result.sent_follow else "linked"
    return redirect(NETWORK.format(slug=community.slug) + f"?done={done}")


async def unlink(request: web.Request) -> web.StreamResponse:
    """The community unfollows the Group (``copub unlink``: Undo(Follow))."""
    _who, community = await require_community(request, request.match_info["slug"])
    actor = str((await request.post()).get("actor", ""))
    async with request.app[SESSIONS].begin() as session:
        row = await store.get_link(session, community.id, actor)
        if row is None:
            raise web.HTTPConflict(reason="This community is not linked with that one.")
        await linking.unlink(session, request.app[URLS], community, row)
        await audit(request, "link.remove", community=community, detail=actor, session=session)
    return redirect(NETWORK.format(slug=community.slug) + "?done=unlinked")


async def set_policy(request: web.Request) -> web.StreamResponse:
    """Whether what comes over a link is announced to the followers (``copub link-policy``)."""
    _who, community = await require_community(request, request.match_info["slug"])
    form = await request.post()
    actor, policy = str(form.get("actor", "")), str(form.get("policy", ""))
    if policy not in linking.POLICIES:
        raise web.HTTPBadRequest(reason=f"The policy is one of {', '.join(linking.POLICIES)}.")
    async with request.app[SESSIONS].begin() as session:
        row = await store.get_link(session, community.id, actor)
        if row is None:
            raise web.HTTPConflict(reason="This community is not linked with that one.")
        linking.set_policy(row, policy)
        await audit(request, "link.policy", community=community, detail=f"{actor} {policy}",
                    session=session)  # fmt: skip
    return redirect(NETWORK.format(slug=community.slug) + "?done=policy")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(NETWORK, network_get)
    app.router.add_post(NETWORK + "/find", find)
    app.router.add_post(NETWORK + "/link", link)
    app.router.add_post(NETWORK + "/unlink", unlink)
    app.router.add_post(NETWORK + "/policy", set_policy)
    add_page(app, "Network", NETWORK, "community")
