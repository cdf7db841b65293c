"""Webhooks as Discourse sends them: a JSON POST per event, one after the other in the
background (Discourse's Sidekiq job), with these headers:

    X-Discourse-Instance: https://forum.example       (the forum's base URL)
    X-Discourse-Event-Id: 42                          (a new id for every delivery, retries too)
    X-Discourse-Event-Type: post | topic | ping
    X-Discourse-Event: post_created | topic_destroyed | ...
    X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>

``pause()`` holds events back; ``release(reverse=True)`` sends them in the wrong order;
``redeliver(sent)`` is Discourse's "redeliver" (same body, a new event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class SentWebhook:
    event_id: int
    event_type: str
    event: str
    body: bytes
    status: int | None = None
    answer: Any = None

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookSender:
    url: str | None = None
    secret: str = ""
    instance: str = ""
    sent: list[SentWebhook] = field(default_factory=list)
    pending: list[SentWebhook] = field(default_factory=list)
    paused: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _queue: asyncio.Queue[SentWebhook] = field(default_factory=asyncio.Queue)
    _session: aiohttp.ClientSession | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def configure(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    async def emit(self, event_type: str, event: str, payload: dict[str, Any]) -> SentWebhook:
        hook = SentWebhook(next(self._ids), event_type, event, json.dumps(payload).encode())
        if self.url is None:
            return hook  # no webhook configured in this forum
        if self.paused:
            self.pending.append(hook)
        else:
            await self._queue.put(hook)
        return hook

    def pause(self) -> None:
        self.paused = True

    async def release(self, *, reverse: bool = False, twice: bool = False) -> None:
        """Send what was held back (in reverse order; every event twice, the repeat with a
        new id as a Discourse retry has) and wait until all were answered."""
        held, self.pending, self.paused = self.pending, [], False
        order = list(reversed(held)) if reverse else held
        for hook in order:
            await self._queue.put(hook)
        if twice:
            for hook in order:
                await self._queue.put(self._again(hook))
        await self.settle()

    def _again(self, hook: SentWebhook) -> SentWebhook:
        return SentWebhook(next(self._ids), hook.event_type, hook.event, hook.body)

    async def redeliver(self, hook: SentWebhook) -> SentWebhook:
        again = self._again(hook)
        await self._queue.put(again)
        await self.settle()
        return again

    async def settle(self) -> None:
        """Wait until every queued webhook was delivered and answered."""
        await self._queue.join()

    def headers(self, hook: SentWebhook, signature: str | None = None) -> dict[str, str]:
        digest = hmac.new(self.secret.encode(), hook.body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "User-Agent": "Discourse/3.4.0",
            "X-Discourse-Instance": self.instance,
            "X-Discourse-Event-Id": str(hook.event_id),
            "X-Discourse-Event-Type": hook.event_type,
            "X-Discourse-Event": hook.event,
            "X-Discourse-Event-Signature": signature
            if signature is not None
            else f"sha256={digest}",
        }

    async def post(self, hook: SentWebhook, headers: dict[str, str]) -> tuple[int, Any]:
        assert self._session is not None
        assert self.url is not None
        async with self._session.post(self.url, data=hook.body, headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def _run(self) -> None:
        while True:
            hook = await self._queue.get()
            try:
                hook.status, hook.answer = await self.post(hook, self.headers(hook))
            except aiohttp.ClientError as exc:
                hook.status, hook.answer = None, str(exc)
            finally:
                self.sent.append(hook)
                self._queue.task_done()
