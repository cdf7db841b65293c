"""The email digest on the web: the subscribe form's answer, the confirmation and
unsubscribe pages (and the one-click unsubscribe of RFC 8058), the digest as an Atom feed,
and the digest service started with the app.

A link in an email only shows a page; the page's button POSTs. Mail scanners that open
every link in a message (to check it) confirm and unsubscribe nobody. The one-click POST
a mail client sends for ``List-Unsubscribe-Post`` unsubscribes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

import aiohttp_jinja2
from aiohttp import web
from feedgen.feed import FeedGenerator

from actors import signing
from actors import urls as routes
from actors.community import Community
from actors.digests import subscribing, tokens
from actors.digests.periods import Frequency, Period, last_closed
from actors.digests.service import DigestService, dashboard_panel
from actors.hooks import Panel
from actors.settings import Settings
from actors.store import digest_queries
from actors.store import digests as digest_store
from actors.store.db import AsyncSession, async_sessionmaker, in_background
from actors.urls import Urls
from actors.web.community_page import render_community
from actors.web.console.auth import address_of
from actors.web.digest_mail import TemplateRenderer
from actors.web.feed_xml import xml_text
from actors.web.keys import DASHBOARD_PANELS, DIRECTORY, SERVER_SIGNER, SESSIONS, SETTINGS, URLS
from actors.web.workers import DELIVERY_WORKER
from federation.errors import NotFound

log = logging.getLogger(__name__)

DIGESTS = web.AppKey("digests", DigestService)  # set when [email] is configured
RENDERER = web.AppKey("digest_renderer", TemplateRenderer)
REQUESTERS = web.AppKey("digest_requesters", subscribing.RequestLimit)
FEED_PERIODS = {Frequency.WEEKLY: 8, Frequency.MONTHLY: 6}
CACHE_CONTROL = "public, max-age=900"


def _link_key(request: web.Request) -> bytes:
    return tokens.link_key(request.app[SERVER_SIGNER].private_key_pem)


def _page(
    request: web.Request,
    community: Community,
    heading: str,
    *lines: str,
    status: int = 200,
    action: str = "",
    token: str = "",
    button: str = "",
) -> web.Response:
    context = {
        "community": community,
        "community_url": request.app[URLS].community(community.slug),
        "heading": heading,
        "lines": lines,
        "action": action,
        "token": token,
        "button": button,
    }
    response = aiohttp_jinja2.render_template("digest_page.html", request, context, status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays in the URL
    return response


async def subscribe(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    service = request.app.get(DIGESTS)
    if service is None:
        raise NotFound("this server sends no email")
    form = await request.post()
    typed = str(form.get("email", ""))[:400]
    address = subscribing.normalize_address(typed)
    frequency = str(form.get("frequency", Frequency.WEEKLY))
    if address is None or frequency not in set(Frequency):
        error = "Enter an email address like you@example.org."
        return await render_community(
            request, community, status=400, digest_error=error, digest_email=typed.strip()
        )
    if not request.app[REQUESTERS].allow(address_of(request), time.monotonic()):
        return _page(request, community, "Please try again later",
                     "Many subscriptions were asked from here in the last hour; try again "
                     "in an hour.", status=429)  # fmt: skip
    outcome = await subscribing.subscribe(
        request.app[SESSIONS], service.settings, request.app[URLS], request.app[RENDERER],
        community, address, Frequency(frequency), datetime.now(UTC),
    )  # fmt: skip
    if outcome is subscribing.Subscribed.BUSY:
        return _page(request, community, "Please try again later",
                     "Many people subscribed in the last hour; try again in an hour.",
                     status=503)  # fmt: skip
    if outcome is subscribing.Subscribed.MAIL_FAILED:
        return _page(request, community, "The email could not be sent",
                     "We could not send the confirmation email just now. Please try again "
                     "in a few minutes.", status=503)  # fmt: skip
    return _page(
        request, community, "Check your inbox",
        f"If {address} is not subscribed yet, it has an email with a link to confirm. "
        "Nothing is sent until you follow it.",
        "Did not get it? Look in the spam folder, or ask again in ten minutes.",
    )  # fmt: skip


def _token(request: web.Request, form: Mapping[str, object] | None = None) -> str:
    """The link's token: in the URL (a link, a one-click POST) or the page's form."""
    token = request.query.get("token", "")
    if not token and form is not None:
        token = str(form.get("token", "") or "")
    return token[:300]


async def _link_page(
    request: web.Request, route: str, heading: str, line: str, button: str
) -> web.Response:
    """What an email's link opens: a page whose button POSTs the token to ``route``."""
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    token = _token(request)
    if tokens.split(token) is None:
        return _page(request, community, "This link is not complete", status=400)
    return _page(
        request, community, heading.format(name=community.name), line,
        action=route.format(slug=community.slug), token=token, button=button,
    )  # fmt: skip


async def confirm_page(request: web.Request) -> web.Response:
    return await _link_page(
        request, routes.COMMUNITY_DIGEST_CONFIRM, "Confirm the digest of {name}",
        "One more step: confirm that you want this community's email digest.", "Confirm",
    )  # fmt: skip


async def confirm(request: web.Request) -> web.Response:
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    form = await request.post()
    token = _token(request, form)
    settings = request.app[SETTINGS].email
    frequency = await subscribing.confirm(
        request.app[SESSIONS], settings, community, token, datetime.now(UTC)
    )
    if frequency is None:
        return _page(
            request, community, "This link does not work",
            "It was used already, has expired, or is not complete. Subscribe again on the "
            "community's page to get a new one.", status=400,
        )  # fmt: skip
    return _page(
        request, community, "You are subscribed",
        f"You will get the {frequency} digest of {community.name} by email: new practices "
        "and revisions, stories, upcoming events and the busiest conversations.",
        "Every digest has a link to unsubscribe, which deletes your address.",
    )  # fmt: skip


async def unsubscribe_page(request: web.Request) -> web.Response:
    return await _link_page(
        request, routes.COMMUNITY_DIGEST_UNSUBSCRIBE, "Unsubscribe from the digest of {name}",
        "Your address will be deleted; no more digests will come.", "Unsubscribe",
    )  # fmt: skip


async def unsubscribe(request: web.Request) -> web.Response:
    """The page's button, or a mail client's one-click POST (RFC 8058: its body is
    ``List-Unsubscribe=One-Click``, the token is in the URL)."""
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    form = await request.post()
    token = _token(request, form)
    outcome = await subscribing.unsubscribe(
        request.app[SESSIONS], _link_key(request), community, token
    )
    if outcome is subscribing.Unsubscribed.INVALID:
        return _page(request, community, "This link does not work",
                     "It is not complete or not this community's.", status=400)  # fmt: skip
    return _page(
        request, community, "You are unsubscribed",
        f"No more digests of {community.name} will come; your address is deleted.",
    )  # fmt: skip


# -- the digest as a feed -------------------------------------------------------------------


def _periods(frequency: Frequency, now: datetime) -> list[Period]:
    period = last_closed(now, frequency)
    found = []
    for _ in range(FEED_PERIODS[frequency]):
        found.append(period)
        period = period.previous()
    return found


async def feed(request: web.Request) -> web.Response:
    """The last closed periods' digests (weekly; ``?frequency=monthly`` for months),
    newest first; a period with nothing in it has no entry."""
    community = await request.app[DIRECTORY].require(request.match_info["slug"])
    urls = request.app[URLS]
    frequency = (
        Frequency.MONTHLY if request.query.get("frequency") == "monthly" else (Frequency.WEEKLY)
    )
    page = urls.community(community.slug)
    self_url = urls.community_digest_atom(community.slug)
    if frequency is Frequency.MONTHLY:
        self_url += "?frequency=monthly"
    async with request.app[SESSIONS]() as session:
        digests = [
            await digest_queries.digest_of(session, community, page, period)
            for period in _periods(frequency, datetime.now(UTC))
        ]
    generator = FeedGenerator()
    generator.id(self_url)
    generator.title(xml_text(f"{community.name}: {frequency.value} digest"))
    generator.subtitle(xml_text(f"What happened in {community.name}, {frequency.value}"))
    generator.link(href=self_url, rel="self")
    generator.link(href=page, rel="alternate", type="text/html")
    generator.author({"name": xml_text(community.name), "uri": page})
    generator.generator("copub")
    renderer = request.app[RENDERER]
    shown = [d for d in digests if not d.is_empty]
    for digest in shown:
        entry = generator.add_entry(order="append")
        entry.id(f"{self_url}#{digest.period.key}")
        entry.title(xml_text(digest.subject))
        entry.link(href=page, rel="alternate", type="text/html")
        entry.published(digest.period.end)
        entry.updated(digest.period.end)
        entry.content(xml_text(renderer.feed_body(digest)), type="html")
    generator.updated(shown[0].period.end if shown else community.created_at)
    body: bytes = generator.atom_str(pretty=False)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, content_type="application/atom+xml", charset="utf-8", headers=headers
    )


# -- the service ----------------------------------------------------------------------------


def digest_service(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    urls: Urls,
    server_private_pem: str,
) -> DigestService:
    return DigestService(
        settings.email, sessions, urls, TemplateRenderer(), tokens.link_key(server_private_pem)
    )


@contextlib.asynccontextmanager
async def passes(service: DigestService) -> AsyncIterator[None]:
    """The service's passes in a task of their own while the block runs."""
    task = asyncio.create_task(in_background(service.run()), name="digests")
    try:
        yield
    finally:
        service.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def beside_worker(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """The digests' passes beside ``copub worker`` (nothing without ``[email]``)."""
    if not settings.email.enabled:
        yield
        return
    urls = Urls(settings.server.base_url)
    signer = await signing.server_signer(sessions, urls)
    async with passes(digest_service(settings, sessions, urls, signer.private_key_pem)):
        yield


async def _digests_ctx(app: web.Application) -> AsyncIterator[None]:
    """With ``[email]``: the service, and its passes in the process that runs the delivery
    worker (after ``delivery_worker_ctx``)."""
    settings = app[SETTINGS]
    if not settings.email.enabled:
        yield
        return
    pem = app[SERVER_SIGNER].private_key_pem
    service = digest_service(settings, app[SESSIONS], app[URLS], pem)
    app[DIGESTS] = service
    if DELIVERY_WORKER not in app:
        yield
        return
    async with passes(service):
        yield


class DigestPanel:
    """``actors.hooks.DashboardSource``: subscribers and digests on a community's dashboard."""

    async def dashboard_panel(self, session: AsyncSession, community: Community) -> Panel:
        subscribers = await digest_store.subscription_counts(session, community.id)
        sends = await digest_store.send_counts(session, community.id)
        return dashboard_panel(subscribers, sends, community.slug)


def setup(app: web.Application) -> None:
    app[RENDERER] = TemplateRenderer()
    app[REQUESTERS] = subscribing.RequestLimit()
    if app[SETTINGS].email.enabled:
        app[DASHBOARD_PANELS].append(DigestPanel())
    app.cleanup_ctx.append(_digests_ctx)
    app.router.add_post(routes.COMMUNITY_DIGEST, subscribe)
    app.router.add_get(routes.COMMUNITY_DIGEST_CONFIRM, confirm_page)
    app.router.add_post(routes.COMMUNITY_DIGEST_CONFIRM, confirm)
    app.router.add_get(routes.COMMUNITY_DIGEST_UNSUBSCRIBE, unsubscribe_page)
    app.router.add_post(routes.COMMUNITY_DIGEST_UNSUBSCRIBE, unsubscribe)
    app.router.add_get(routes.COMMUNITY_DIGEST_ATOM, feed)
