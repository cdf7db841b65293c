"""Fake origins for recorded group traffic: other software's servers, on 127.0.0.1.

A recorded host (``lemmy.example``) becomes an :class:`Origin` at ``http://127.0.0.1:PORT``
serving the documents of ``tests/fixtures/remote/<host>/`` (path = file path without
``.json``); every occurrence of ``https://<host>`` in documents and activities is rewritten
(:class:`Hosts`). Actors get key pairs of the test's own (the recorded ``publicKeyPem`` is
replaced), so the Origin can sign as them. It answers WebFinger for its actors, records what
reaches its inboxes and, when told to, accepts a Follow of one of its Groups (with a recorded
``Accept`` or an echo of the Follow).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.keys import Signer, generate_rsa_keypair
from federation.vocab import AS2_MEDIA_TYPE, JSON, get_id
from tests.links.network import post_signed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REMOTE = FIXTURES / "remote"
ACTIVITIES = FIXTURES / "activities"


@cache
def keypair(actor_id: str) -> tuple[str, str]:
    return generate_rsa_keypair()


@dataclass
class Hosts:
    """Recorded origins (``https://lemmy.example``) -> where the test serves them."""

    mapping: dict[str, str] = field(default_factory=dict)

    def rewrite(self, text: str) -> str:
        for recorded, served in self.mapping.items():
            text = text.replace(recorded, served)
        return text

    def load(self, path: Path) -> JSON:
        document: JSON = json.loads(self.rewrite(path.read_text(encoding="utf-8")))
        return document


@dataclass
class Origin:
    host: str  # as recorded: lemmy.example
    hosts: Hosts
    documents: dict[str, JSON] = field(default_factory=dict)  # by path
    received: list[JSON] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # paths of the GETs answered
    accept_with: Path | None = None  # a recorded Accept; None: echo the Follow
    accepting: bool = False
    answer: str = "Accept"  # or "Reject"
    _server: TestServer | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> Origin:
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/{path:.*}", self._get)
        app.router.add_post("/{path:.*}", self._post)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self.hosts.mapping[f"https://{self.host}"] = self.base_url
        return self

    def load(self) -> None:
        """Serve the recorded documents (after every Origin of the test has started)."""
        root = REMOTE / self.host
        for path in sorted(root.rglob("*.json")):
            document = self.hosts.load(path)
            key = document.get("publicKey")
            if isinstance(key, dict):
                key["publicKeyPem"] = keypair(document["id"])[1]
            self.documents["/" + str(path.relative_to(root).with_suffix(""))] = document

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def signer(self, actor_id: str) -> Signer:
        document = self.documents[actor_id.removeprefix(self.base_url)]
        return Signer(key_id=document["publicKey"]["id"], private_key_pem=keypair(actor_id)[0])

    async def send(self, actor_id: str, inbox: str, activity: JSON) -> int:
        """POST ``activity`` to ``inbox``, signed as ``actor_id``."""
        return await post_signed(self.signer(actor_id), inbox, activity)

    async def wait_for(self, type_: str, timeout: float = 15) -> JSON:
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(lambda: any(a.get("type") == type_ for a in self.received))
        return next(a for a in self.received if a.get("type") == type_)

    async def _webfinger(self, request: web.Request) -> web.Response:
        user = request.query.get("resource", "").removeprefix("acct:").split("@")[0]
        for document in self.documents.values():
            if document.get("preferredUsername") == user and "inbox" in document:
                link = {"rel": "self", "type": AS2_MEDIA_TYPE, "href": document["id"]}
                body = {"subject": f"acct:{user}@{self.base_url.split('://')[1]}", "links": [link]}
                return web.json_response(body, content_type="application/jrd+json")
        raise web.HTTPNotFound()

    async def _get(self, request: web.Request) -> web.Response:
        document = self.documents.get(request.path)
        if document is None:
            raise web.HTTPNotFound()
        self.fetched.append(request.path)
        return web.Response(text=json.dumps(document), content_type=AS2_MEDIA_TYPE)

    async def _post(self, request: web.Request) -> web.Response:
        activity = json.loads(await request.read())
        async with self._cond:
            self.received.append(activity)
            self._cond.notify_all()
        if activity.get("type") == "Follow" and self.accepting and "inbox" in request.path:
            task = asyncio.create_task(self._accept(activity))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _accept(self, follow: JSON) -> None:
        group = str(get_id(follow.get("object")))
        if self.accept_with is not None and self.answer == "Accept":
            accept = self.hosts.load(self.accept_with)
        else:
            accept = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{group}#{self.answer.lower()}s/{len(self.received)}",
                "type": self.answer,
                "actor": group,
                "object": follow,
            }
        # a copub community's inbox is its actor URL + /inbox
        await self.send(group, str(get_id(follow.get("actor"))) + "/inbox", accept)


def activity_files(software: str) -> list[Path]:
    return sorted((ACTIVITIES / software).glob("*/*.json"))


async def start_origins(*hosts: str, extra: dict[str, str] | None = None) -> list[Origin]:
    """Start one Origin per recorded host, then load their documents (each may name the
    others); ``extra`` maps more recorded origins (``https://copub.example``) to URLs."""
    shared = Hosts(dict(extra or {}))
    origins = [await Origin(host, shared).start() for host in hosts]
    for origin in origins:
        origin.load()
    return origins
