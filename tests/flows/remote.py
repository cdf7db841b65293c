"""A Mastodon-like server for flow tests, on 127.0.0.1 at a free port.

``RemoteServer`` hosts Person actors (``/users/{name}``, inbox ``/users/{name}/inbox``,
shared inbox ``/inbox``, WebFinger), serves the Notes its people post, verifies the
signature of every inbox POST (fetching copub's keys) and records it, verified or not.
Tests wait on what arrived with ``await remote.wait_for(predicate, timeout=...)``;
``respond(path, 503)`` queues answers for an inbox. ``send_*`` helpers sign activities
with the person's key exactly as Mastodon does (cavage, Digest, activity+json).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.client import FederationClient
from federation.errors import FederationError
from federation.httpsig import CachingKeyResolver, InMemoryKeyCache, sign_request, verify_request
from federation.resolve import resolve_handle
from federation.vocab import AS2_MEDIA_TYPE, AS_CONTEXT, JSON
from tests.flows import mastodon
from tests.flows.mastodon import Person

__all__ = ["Delivery", "Person", "RemoteServer"]

T = TypeVar("T")


@dataclass(frozen=True)
class Delivery:
    """One POST that reached an inbox here, and what we answered."""

    path: str
    activity: JSON
    verified: bool
    signer: str | None  # the key owner, when the signature verified
    error: str | None
    status: int
    content_type: str

    @property
    def type(self) -> str | None:
        return self.activity.get("type")

    @property
    def ok(self) -> bool:
        return self.verified and 200 <= self.status < 300


@dataclass
class RemoteServer:
    """The test's fediverse peer. Use as ``async with RemoteServer() as remote``."""

    delay: float = 0.0  # seconds each inbox POST takes to answer (a slow peer)
    authorized_fetch: bool = False  # Mastodon's secure mode: GETs must be signed
    port: int | None = None  # None: a free one; a port: the same server again, restarted
    people: dict[str, Person] = field(default_factory=dict)
    received: list[Delivery] = field(default_factory=list)
    notes: dict[str, JSON | None] = field(default_factory=dict)  # None: deleted (410)
    fetches: list[tuple[str, str | None]] = field(default_factory=list)  # (path, signer)
    _answers: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _server: TestServer | None = None
    _session: aiohttp.ClientSession | None = None
    _client: FederationClient | None = None
    _resolver: CachingKeyResolver | None = None
    _cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> RemoteServer:
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/users/{name}/statuses/{sid}", self._note)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self._server = TestServer(app, host="127.0.0.1", port=self.port)
        await self._server.start_server()
        self._session = aiohttp.ClientSession()
        self._client = FederationClient("remote-test/1.0", allow_private_addresses=True)
        await self._client.start()
        self._resolver = CachingKeyResolver(InMemoryKeyCache(), self._client.fetch_object)
        return self

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._session is not None:
            await self._session.close()
        if self._server is not None:
            await self._server.close()

    async def __aenter__(self) -> RemoteServer:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        return str(self._server.make_url("")).rstrip("/")

    @property
    def domain(self) -> str:
        """host:port, what copub's handles and domain blocks use."""
        return self.base_url.split("://", 1)[1]

    @property
    def shared_inbox(self) -> str:
        return self.base_url + "/inbox"

    def person(self, name: str, *, shared_inbox: bool = True) -> Person:
        if name not in self.people:
            self.people[name] = Person(name, self.base_url, shared_inbox)
        return self.people[name]

    # -- what arrived ---------------------------------------------------------------------

    def respond(self, path: str, *statuses: int) -> None:
        """Answer the next POSTs to ``path`` with ``statuses``, in order (then 202)."""
        self._answers[path].extend(statuses)

    async def wait_for(self, predicate: Callable[[list[Delivery]], T], timeout: float = 15) -> T:
        """Wait until ``predicate(received)`` is truthy; returns its value."""
        try:
            async with asyncio.timeout(timeout), self._cond:
                return await self._cond.wait_for(lambda: predicate(self.received))
        except TimeoutError:
            seen = [(d.path, d.type, d.status, d.verified, d.error) for d in self.received]
            raise AssertionError(f"waited {timeout} s in vain; received: {seen}") from None

    def activities(self, type_: str | None = None, *, path: str | None = None) -> list[JSON]:
        """Activities accepted here (verified, answered 2xx), by type and inbox path."""
        return [
            d.activity
            for d in self.received
            if d.ok and (type_ is None or d.type == type_) and (path is None or d.path == path)
        ]

    def of_type(self, type_: str) -> list[Delivery]:
        return [d for d in self.received if d.ok and d.type == type_]

    # -- handlers -------------------------------------------------------------------------

    async def _webfinger(self, request: web.Request) -> web.Response:
        user = request.query.get("resource", "").removeprefix("acct:").split("@")[0]
        if user not in self.people:
            raise web.HTTPNotFound()
        link = {"rel": "self", "type": AS2_MEDIA_TYPE, "href": self.people[user].id}
        body = {"subject": f"acct:{user}@{self.domain}", "links": [link]}
        return web.json_response(body, content_type="application/jrd+json")

    async def _actor(self, request: web.Request) -> web.Response:
        person = self.people.get(request.match_info["name"])
        if person is None:
            raise web.HTTPNotFound()
        await self._signed_get(request)
        return _as2(person.document())

    async def _note(self, request: web.Request) -> web.Response:
        url = self.base_url + request.path
        if url not in self.notes:
            raise web.HTTPNotFound()
        await self._signed_get(request)
        note = self.notes[url]
        if note is None:
            return _as2({"@context": AS_CONTEXT, "id": url, "type": "Tombstone"}, status=410)
        return _as2({"@context": AS_CONTEXT, **note})

    async def _verify(self, request: web.Request, body: bytes) -> tuple[str | None, str | None]:
        """(key owner, None) when the request's signature verifies, else (None, reason)."""
        assert self._resolver is not None
        try:
            result = await verify_request(
                request.method, request.raw_path, request.headers, body, self._resolver,
                scheme="http",
            )  # fmt: skip
        except FederationError as exc:
            return None, exc.reason
        return result.owner, None

    async def _signed_get(self, request: web.Request) -> None:
        """Record who signed a GET; in authorized-fetch mode refuse it unsigned (401)."""
        signer, _error = await self._verify(request, b"")
        self.fetches.append((request.path, signer))
        if self.authorized_fetch and signer is None:
            raise web.HTTPUnauthorized()

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        signer, error = await self._verify(request, body)
        verified = signer is not None
        try:
            activity = json.loads(body)
        except ValueError:
            activity = {"unparsable": body.decode("utf-8", "replace")}
        answers = self._answers.get(request.path)
        status = answers.popleft() if answers else (202 if verified else 401)
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow peer, not synchronisation
        delivery = Delivery(
            request.path,
            activity,
            verified,
            signer,
            error,
            status,
            request.headers.get("Content-Type", ""),
        )
        async with self._cond:
            self.received.append(delivery)
            self._cond.notify_all()
        return web.Response(status=status)

    # -- sending, as Mastodon does --------------------------------------------------------

    async def discover(self, handle: str) -> JSON:
        """What Mastodon does when a user searches ``@slug@host``: WebFinger, then the actor."""
        assert self._client is not None
        actor_id = await resolve_handle(self._client, handle, scheme="http")
        return await self._client.fetch_object(actor_id)

    async def post(self, person: Person, inbox: str, activity: JSON) -> tuple[int, Any]:
        """Sign ``activity`` with ``person``'s key and POST it; (status, JSON answer)."""
        body = json.dumps(activity).encode()
        return await self.post_raw(person, inbox, body)

    async def post_raw(
        self, person: Person, inbox: str, body: bytes, *, tamper: bool = False
    ) -> tuple[int, Any]:
        """POST ``body`` signed by ``person``; ``tamper`` changes the body after signing."""
        headers = sign_request("POST", inbox, {"Content-Type": AS2_MEDIA_TYPE}, body, person.signer)
        headers.pop("Host", None)
        if tamper:
            body = body.replace(b"}", b' , "x": 1}', 1) if b"}" in body else body + b" "
        assert self._session is not None
        async with self._session.post(inbox, data=body, headers=headers) as response:
            answer = await response.json(content_type=None) if await response.read() else None
            return response.status, answer

    async def send_follow(self, person: Person, inbox: str, target: str) -> JSON:
        return await self._send(person, inbox, mastodon.follow(person, target))

    async def send_undo(self, person: Person, inbox: str, inner: JSON) -> JSON:
        return await self._send(person, inbox, mastodon.undo(person, inner))

    def note(
        self,
        person: Person,
        text: str,
        *,
        mention: tuple[str, str] | None = None,
        in_reply_to: str | None = None,
        visibility: str = "public",
    ) -> JSON:
        """A Note by ``person`` (see ``mastodon.note``), served at its id."""
        note = mastodon.note(
            person, text, mention=mention, in_reply_to=in_reply_to, visibility=visibility
        )
        self.notes[note["id"]] = note
        return note

    async def send_create(self, person: Person, inbox: str, note: JSON) -> JSON:
        return await self._send(person, inbox, mastodon.create(person, note))

    async def send_update(self, person: Person, inbox: str, note: JSON, text: str) -> JSON:
        """Edit ``note`` (as served here too) and send the Update."""
        note.update(content=f"<p>{text}</p>", updated="2025-01-15T11:00:00Z")
        return await self._send(person, inbox, mastodon.update(person, note))

    async def send_delete(self, person: Person, inbox: str, note: JSON) -> JSON:
        """Delete ``note`` (its URL answers 410 from now on) and send the Delete."""
        self.notes[note["id"]] = None
        return await self._send(person, inbox, mastodon.delete(person, note))

    async def send_like(self, person: Person, inbox: str, object_id: str) -> JSON:
        return await self._send(person, inbox, mastodon.like(person, object_id))

    async def _send(self, person: Person, inbox: str, activity: JSON) -> JSON:
        """POST ``activity``; the test fails unless copub answers 202."""
        status, answer = await self.post(person, inbox, activity)
        assert status == 202, f"{activity['type']} to {inbox}: {status} {answer}"
        return activity


def _as2(document: JSON, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(document), status=status, content_type=AS2_MEDIA_TYPE)
