"""Helpers for delivery tests: real inbox servers, a settable clock, communities with
followers, and direct reads of the ``deliveries`` table.

``InboxServer`` is an aiohttp app on 127.0.0.1 (one server = one host) that verifies the
HTTP signature of every POST with the community's public key, records it, and answers
with scripted statuses (``script(path, 503, 202)``; 202 once the script is used up).
Tests wait for what arrived with ``await server.wait_for(n)``, never with sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.store import jobs, social
from actors.store.jobqueue import SqlJobQueue
from actors.store.models import DeliveryRow, FollowerRow
from actors.urls import Urls
from federation.client import FederationClient
from federation.clock import utcnow
from federation.delivery.breaker import BreakerPolicy
from federation.delivery.retry import RetryPolicy
from federation.delivery.worker import DeliveryWorker
from federation.errors import SignatureError
from federation.httpsig import PublicKeyInfo, verify_request
from tests import factories

URLS = Urls(factories.BASE_URL)
FAST = RetryPolicy(base_seconds=0.0, jitter=0.0)  # retries are due at once


class FakeClock:
    """A clock tests move by hand; shared by the worker and the queue."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class StaticKeys:
    """A key resolver that knows only the given community keys."""

    def __init__(self, *communities: Community) -> None:
        self.keys = {
            URLS.community_key(c.slug): PublicKeyInfo(
                URLS.community_key(c.slug), URLS.community(c.slug), c.public_key_pem
            )
            for c in communities
        }

    async def resolve(self, key_id: str, *, refresh: bool = False) -> PublicKeyInfo:
        try:
            return self.keys[key_id]
        except KeyError:
            raise SignatureError(f"unknown key {key_id}") from None


@dataclass
class Received:
    path: str
    activity_id: str
    key_id: str | None  # None: the signature did not verify
    body: dict[str, Any]


@dataclass
class InboxServer:
    keys: StaticKeys
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, deque[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    hold: asyncio.Event | None = None  # when set: requests wait for it before answering
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def script(self, path: str, *statuses: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next POSTs to ``path`` with these statuses, in order."""
        for status in statuses:
            self.scripts[path].append((status, headers or {}))

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"{self.server.host}:{self.server.port}"

    async def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self.server is not None:
            await self.server.close()

    def count(self, path: str | None = None) -> int:
        return sum(1 for r in self.received if path is None or r.path == path)

    async def wait_for(self, n: int, timeout: float = 10.0) -> None:
        """Until at least ``n`` POSTs have arrived."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.received) >= n)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verified = await verify_request(
                request.method, request.path_qs, request.headers, body, self.keys, scheme="http"
            )
            key_id: str | None = verified.key_id
        except SignatureError:
            key_id = None
        activity = json.loads(body)
        self.received.append(Received(request.path, activity["id"], key_id, activity))
        async with self._changed:
            self._changed.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        status, headers = 202, {}
        if self.scripts[request.path]:
            status, headers = self.scripts[request.path].popleft()
        return web.Response(status=status, headers=headers)


async def start_inbox(keys: StaticKeys) -> InboxServer:
    """An inbox server on a free port of 127.0.0.1; ``await inbox.close()`` stops it."""
    inbox = InboxServer(keys)
    app = web.Application()
    app.router.add_post("/{tail:.*}", inbox.handle)
    inbox.server = TestServer(app, host="127.0.0.1")
    await inbox.server.start_server()
    return inbox


def make_worker(
    sessions: async_sessionmaker[AsyncSession],
    client: FederationClient,
    *,
    clock: FakeClock | None = None,
    policy: RetryPolicy = FAST,
    breaker: BreakerPolicy | None = None,
    **options: Any,
) -> DeliveryWorker:
    queue = SqlJobQueue(sessions, URLS, clock=clock or utcnow)
    if clock is not None:
        options["clock"] = clock
    return DeliveryWorker(queue, client, policy=policy, breaker=breaker, **options)


async def add_follower(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    actor_id: str,
    inbox: str,
    shared_inbox: str | None = None,
    state: str = "accepted",
) -> None:
    async with sessions.begin() as session:
        session.add(
            FollowerRow(
                community_id=community.id,
                actor_id=actor_id,
                inbox=inbox,
                shared_inbox=shared_inbox,
                state=state,
                follow_activity_id=f"{actor_id}#follow",
            )
        )


_counter = [0]


async def publish(
    sessions: async_sessionmaker[AsyncSession],
    community: Community,
    inboxes: list[str] | None = None,
) -> str:
    """Store a Create and queue it (to ``inboxes``, else to all followers) in one
    transaction; returns the activity id."""
    _counter[0] += 1
    ap_id = f"{URLS.community(community.slug)}/activities/{_counter[0]}"
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": ap_id,
        "type": "Create",
        "actor": URLS.community(community.slug),
        "object": {"id": ap_id + "/note", "type": "Note", "content": "hello"},
    }
    async with sessions.begin() as session:
        row = await social.insert_activity(
            session, community_id=community.id, ap_json=activity, object_ap_id=None
        )
        targets = (
            inboxes if inboxes is not None else await jobs.follower_inboxes(session, community.id)
        )
        await jobs.enqueue_deliveries(session, row.id, community.id, targets)
    return ap_id


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[DeliveryRow]:
    async with sessions() as session:
        return list(await session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


async def states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """``inbox -> state`` (for single-activity tests)."""
    return {row.inbox: row.state for row in await deliveries(sessions)}
