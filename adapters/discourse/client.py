"""A polite client of one Discourse forum's REST API.

``Api-Key`` and ``Api-Username`` on every authenticated request; a ``429`` is waited out
(``extras.wait_seconds`` of Discourse's error body, else ``Retry-After``) and retried;
``5xx`` and network errors back off and retry a few times (not for ``POST``: it may have
created something before failing); anything else becomes a
:class:`DiscourseError` whose class says what is wrong (bad key, not found, forbidden...).
Connections go through federation's :class:`GuardedResolver`, so the address policy
(``federation.allow_private_addresses`` plus the forum's ``allowed_networks``) holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from actors.errors import Upstream
from federation.delivery.retry import RetryPolicy
from federation.errors import FederationError
from federation.pool import ClientLifecycle
from federation.ssrf import AddressPolicy, GuardedResolver

log = logging.getLogger(__name__)

Params = Sequence[tuple[str, str | int]]
Sleep = Callable[[float], Awaitable[None]]
_BAD_KEY_HINTS = ("api username or key is invalid", "invalid api", "api key")
# retried here after a 5xx or a network error; a POST may have created the post before the
# answer was lost, so its retry is the job queue's, which first looks whether it did
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})


class DiscourseError(Upstream):
    """The forum could not do what we asked; ``retryable`` says whether trying later helps.
    ``status`` is the forum's answer, when there was one."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, error_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type


class Unreachable(DiscourseError):
    retryable = True


class AddressRefused(DiscourseError):
    """The forum's address is one the address policy refuses (a private network)."""


class BadCredentials(DiscourseError):
    """The API key or the API username is wrong, revoked or not matching each other."""

    retryable = True  # an admin fixes the key; the queue keeps the work meanwhile


class Forbidden(DiscourseError):
    """The key works but may not do this (a scope or a category permission is missing)."""

    retryable = True


class NotFound(DiscourseError):
    pass


class RateLimited(DiscourseError):
    retryable = True


class ServerError(DiscourseError):
    retryable = True


class Rejected(DiscourseError):
    """The forum refused the content (422: too short, duplicate, closed topic...)."""


@dataclass
class ClientStats:
    requests: int = 0
    rate_limited: int = 0
    # wall-clock time during which at least one request waited out a 429: parallel
    # requests waiting together count once
    waited_seconds: float = 0.0
    retried: int = 0


class DiscourseClient(ClientLifecycle):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_username: str,
        *,
        user_agent: str,
        policy: AddressPolicy,
        timeout_seconds: float = 30.0,
        max_attempts: int = 4,
        max_rate_waits: int = 8,
        max_wait_seconds: float = 120.0,
        backoff_seconds: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_username = api_username
        self._headers = {"Api-Key": api_key, "Api-Username": api_username}
        self.user_agent = user_agent
        self.policy = policy
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.max_rate_waits = max_rate_waits
        self.max_wait_seconds = max_wait_seconds
        self.backoff_seconds = backoff_seconds
        # an idempotent request that failed is tried again after backoff_seconds, twice that...
        self._backoff_policy = RetryPolicy(
            base_seconds=backoff_seconds, factor=2.0, jitter=0.0, max_age_seconds=None
        )
        self.stats = ClientStats()
        self._sleep = sleep
        self._clock = clock
        self._rate_waiting = 0  # requests waiting out a 429 right now
        self._rate_wait_started = 0.0
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy), limit=8)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
                headers={"User-Agent": self.user_agent, "Accept": "application/json"},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, path: str) -> str:
        return self.base_url + path

    async def get(self, path: str, params: Params = (), *, auth: bool = True) -> Any:
        return await self._request("GET", path, params, None, auth)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, (), body, True)

    async def put(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("PUT", path, (), body, True)

    async def delete(self, path: str) -> Any:
        return await self._request("DELETE", path, (), None, True)

    async def _request(
        self, method: str, path: str, params: Params, body: dict[str, Any] | None, auth: bool
    ) -> Any:
        if self._session is None:
            raise RuntimeError("DiscourseClient.start() was not called")
        url = URL(self.url(path))
        headers = dict(self._headers) if auth else {}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        attempt = rate_waits = 0
        while True:
            attempt += 1
            try:
                status, retry_after, payload = await self._exchange(
                    method, url, params, headers, data
                )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                if attempt >= self.max_attempts or method not in _IDEMPOTENT:
                    raise Unreachable(f"cannot reach {self.base_url}: {_describe(exc)}") from exc
                await self._backoff(attempt, f"{method} {path}: {_describe(exc)}")
                continue
            if 200 <= status < 300:
                return payload
            if status == 429 and rate_waits < self.max_rate_waits:
                rate_waits += 1
                wait = _wait_seconds(payload, retry_after, self.backoff_seconds)
                wait = min(wait, self.max_wait_seconds)
                log.info("%s rate-limits us: waiting %.2f s", self.base_url, wait)
                await self._rate_wait(wait)
                continue
            if status >= 500 and attempt < self.max_attempts and method in _IDEMPOTENT:
                await self._backoff(attempt, f"{method} {path}: HTTP {status}")
                continue
            raise error_for(status, payload, f"{method} {path}")

    async def _exchange(
        self,
        method: str,
        url: URL,
        params: Params,
        headers: dict[str, str],
        data: bytes | None,
    ) -> tuple[int, str | None, Any]:
        assert self._session is not None
        try:
            self.policy.check_host(url.host or "")
            self.stats.requests += 1
            async with self._session.request(
                method, url, params=list(params), headers=headers, data=data, allow_redirects=False
            ) as response:
                raw = await response.read()
                retry_after = response.headers.get("Retry-After")
                status = response.status
        except FederationError as exc:  # the address policy said no
            raise AddressRefused(
                f"{url.host}: {exc.reason}; allow it with the forum's allowed_networks "
                "or federation.allow_private_addresses"
            ) from exc
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except ValueError:
            payload = None
        if payload is None and 200 <= status < 300:
            raise DiscourseError(
                f"{url} did not answer JSON: is {self.base_url} a Discourse forum?", status=status
            )
        return status, retry_after, payload

    async def _rate_wait(self, seconds: float) -> None:
        """Wait out a 429; ``stats.waited_seconds`` grows by the wall-clock time some
        request was waiting, not by the sum of parallel waits."""
        self.stats.rate_limited += 1
        if self._rate_waiting == 0:
            self._rate_wait_started = self._clock()
        self._rate_waiting += 1
        try:
            await self._sleep(seconds)
        finally:
            self._rate_waiting -= 1
            if self._rate_waiting == 0:
                self.stats.waited_seconds += self._clock() - self._rate_wait_started

    async def _backoff(self, attempt: int, what: str) -> None:
        delay = self._backoff_policy.delay(attempt)
        self.stats.retried += 1
        log.info("%s; retrying in %.2f s", what, delay)
        await self._sleep(delay)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _wait_seconds(payload: Any, retry_after: str | None, fallback: float) -> float:
    extras = payload.get("extras") if isinstance(payload, dict) else None
    if isinstance(extras, dict):
        wait = extras.get("wait_seconds")
        if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
            return float(wait)
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    return fallback


def error_for(status: int, payload: Any, what: str) -> DiscourseError:
    errors: list[str] = []
    error_type = None
    if isinstance(payload, dict):
        found = payload.get("errors")
        if isinstance(found, list):
            errors = [str(e) for e in found]
        elif isinstance(payload.get("error"), str):
            errors = [payload["error"]]
        if isinstance(payload.get("error_type"), str):
            error_type = payload["error_type"]
    detail = "; ".join(errors) or f"HTTP {status}"
    message = f"{what}: {detail}"
    kwargs: dict[str, Any] = {"status": status, "error_type": error_type}
    if status == 401 or (status == 403 and any(h in detail.lower() for h in _BAD_KEY_HINTS)):
        return BadCredentials(message, **kwargs)
    if status == 403:
        return Forbidden(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 429:
        return RateLimited(message, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return Rejected(message, **kwargs)
