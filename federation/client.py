"""One shared, signed, SSRF-guarded aiohttp session for talking to other servers."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.helpers import parse_mimetype
from yarl import URL

from federation.errors import FederationError, FetchError
from federation.httpsig import parse_http_date, sign_request
from federation.httpsig.knock import (
    REFUSED_SIGNATURE,
    Scheme,
    SchemeMemory,
    other_scheme,
    passed_signature_check,
)
from federation.keys import Signer
from federation.origins import host_of, origin_text, same_origin
from federation.pool import DEFAULT_IDLE_HOSTS, ClientLifecycle, KeepAliveConnector
from federation.ssrf import AddressPolicy, GuardedResolver
from federation.vocab import AS2_MEDIA_TYPE, AS_CONTEXT, JSON, LD_MEDIA_TYPE
from federation.wire import parse_json

log = logging.getLogger(__name__)

AS2_ACCEPT = f"{AS2_MEDIA_TYPE}, {LD_MEDIA_TYPE}"
JRD_ACCEPT = "application/jrd+json, application/json;q=0.9"
MIB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SNIPPET = 512
_POST_READ_LIMIT = 64 * 1024


class RemoteStatusError(FetchError):
    """The peer answered with a non-success HTTP status (``status``, e.g. 404 or 410)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class PostResult:
    """What a delivery got back; HTTP errors are results, not exceptions."""

    status: int
    retry_after_seconds: float | None
    body_snippet: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class _Answer:
    url: str
    status: int
    content_type: str
    profile: str | None
    retry_after: str | None
    body: bytes


class FederationClient(ClientLifecycle):
    """Signed GETs and POSTs to other servers, with every safety limit in one place.

    Timeouts (the whole exchange, redirects included), a body cap, at most
    ``max_redirects`` redirects (each hop re-checked and re-signed), and an address policy
    enforced by a resolver on the address actually connected. ``resolver`` replaces the
    system resolver under the guard (tests map fake names to 127.0.0.1). ``ca_file``: a PEM
    file of extra certificate authorities trusted for https, besides the system's.
    Signed requests knock twice (federation/httpsig/knock.py): first with the scheme the
    origin is known to accept, else ``signature_scheme``; on a 401 with the other one,
    remembered for ``scheme_memory`` origins at most (``schemes``: a memory shared with the
    process's other clients instead). Signatures are made in a thread of the client's own
    (``_sign``), off the event loop. Idle connections are kept for the ``idle_hosts`` hosts
    used last (federation/pool.py), at most ``limit_per_host`` each.
    """

    def __init__(
        self,
        user_agent: str,
        *,
        timeout_seconds: float = 10.0,
        allow_private_addresses: bool = False,
        allowed_networks: Iterable[str] = (),
        max_body: int = MIB,
        max_redirects: int = 3,
        resolver: AbstractResolver | None = None,
        webfinger_scheme: str = "https",
        limit_per_host: int = 8,
        limit: int = 100,
        idle_hosts: int = DEFAULT_IDLE_HOSTS,
        ca_file: str | None = None,
        signature_scheme: Scheme = "cavage",
        scheme_memory: int = 10_000,
        schemes: SchemeMemory | None = None,
    ) -> None:
        if idle_hosts < 0:
            raise ValueError("idle_hosts must not be negative")
        self.user_agent = user_agent
        self.schemes = SchemeMemory(signature_scheme, scheme_memory) if schemes is None else schemes
        self.timeout_seconds = timeout_seconds
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.webfinger_scheme = webfinger_scheme
        self.policy = AddressPolicy.build(
            allow_private=allow_private_addresses, allowed_networks=allowed_networks
        )
        self._inner_resolver = resolver
        self._limit_per_host = limit_per_host
        self._limit = limit
        self._idle_hosts = idle_hosts
        self._ca_file = ca_file
        self._session: aiohttp.ClientSession | None = None
        self._signing: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self._session is not None:
            return
        self._signing = ThreadPoolExecutor(1, thread_name_prefix="copub-sign")
        connector = KeepAliveConnector(
            idle_hosts=self._idle_hosts,
            resolver=GuardedResolver(self.policy, self._inner_resolver),
            limit_per_host=self._limit_per_host,
            limit=self._limit,
            ssl=self._ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": self.user_agent},
        )

    def _ssl_context(self) -> ssl.SSLContext | bool:
        """Certificates are always verified; ``ca_file`` adds authorities to the system's."""
        if not self._ca_file:
            return True
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=self._ca_file)
        return context

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._signing is not None:
            self._signing.shutdown(wait=False)
            self._signing = None

    async def fetch_object(self, url: str, signer: Signer | None = None) -> JSON:
        """GET an ActivityStreams document: AS2 content type, id on the final URL's origin."""
        answer = await self._exchange("GET", url, AS2_ACCEPT, None, signer, self.max_body)
        if not 200 <= answer.status < 300:
            raise RemoteStatusError(answer.url, answer.status)
        if answer.content_type not in ("application/activity+json", "application/ld+json") or (
            answer.content_type == "application/ld+json"
            and answer.profile not in (None, AS_CONTEXT)
        ):
            raise FetchError(f"{answer.url} is not ActivityStreams ({answer.content_type})")
        document = _decode_object(answer)
        ident = document.get("id")
        if not isinstance(ident, str) or not same_origin(ident, answer.url):
            raise FetchError(f"the document at {answer.url} has an id from another origin")
        return document

    async def fetch_json(
        self,
        url: str,
        *,
        signer: Signer | None = None,
        accept: str = JRD_ACCEPT,
        content_types: Iterable[str] = ("application/jrd+json", "application/json"),
    ) -> JSON:
        """GET a JSON object (WebFinger, NodeInfo) of one of ``content_types``."""
        answer = await self._exchange("GET", url, accept, None, signer, self.max_body)
        if not 200 <= answer.status < 300:
            raise RemoteStatusError(answer.url, answer.status)
        if answer.content_type not in tuple(content_types):
            raise FetchError(f"{answer.url} answered {answer.content_type}, not JSON")
        return _decode_object(answer)

    async def post_activity(self, inbox_url: str, body: bytes, signer: Signer) -> PostResult:
        """Signed POST of an activity. Redirects are not followed (a 3xx is the result)."""
        answer = await self._exchange(
            "POST", inbox_url, AS2_MEDIA_TYPE, body, signer, _POST_READ_LIMIT, truncate=True
        )
        snippet = answer.body[:_SNIPPET].decode("utf-8", "replace")
        return PostResult(answer.status, _retry_after(answer.retry_after), snippet)

    async def _exchange(
        self,
        method: str,
        url: str,
        accept: str,
        body: bytes | None,
        signer: Signer | None,
        read_limit: int,
        *,
        truncate: bool = False,
    ) -> _Answer:
        session = self._session
        if session is None:
            raise RuntimeError("FederationClient.start() was not called")
        target = URL(url)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                for _hop in range(self.max_redirects + 1):
                    self._check_url(target)
                    headers = {"Accept": accept}
                    if body is not None:
                        headers["Content-Type"] = AS2_MEDIA_TYPE
                    async with self._knock(
                        session, method, target, headers, body, signer
                    ) as response:
                        location = response.headers.get("Location")
                        if method == "GET" and response.status in _REDIRECTS and location:
                            target = target.join(URL(location))
                            log.debug("following redirect to %s", target)
                            continue
                        data = await _read_body(response, read_limit, truncate)
                        mime = parse_mimetype(response.headers.get("Content-Type", ""))
                        suffix = f"+{mime.suffix}" if mime.suffix else ""  # activity+json
                        return _Answer(
                            str(target),
                            response.status,
                            f"{mime.type}/{mime.subtype}{suffix}".lower(),
                            mime.parameters.get("profile"),
                            response.headers.get("Retry-After"),
                            data,
                        )
                raise FetchError(f"{url}: more than {self.max_redirects} redirects")
        except FederationError:
            raise
        except TimeoutError as exc:
            raise FetchError(f"{target}: timed out after {self.timeout_seconds} s") from exc
        except (aiohttp.ClientError, OSError, ValueError, EOFError) as exc:
            raise FetchError(f"{target}: {type(exc).__name__}: {exc}") from exc

    @asynccontextmanager
    async def _knock(
        self,
        session: aiohttp.ClientSession,
        method: str,
        target: URL,
        headers: dict[str, str],
        body: bytes | None,
        signer: Signer | None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response to one request; signed, it is signed with the scheme ``target``'s
        origin accepts, and on a 401 signed with the other and sent again (knock.py)."""
        if signer is None:
            async with session.request(
                method, target, headers=headers, data=body, allow_redirects=False
            ) as response:
                yield response
            return
        url = str(target)
        origin = origin_text(url)
        first = self.schemes.scheme_for(origin)
        signed = await self._sign(method, url, headers, body, signer, first)
        async with session.request(
            method, target, headers=signed, data=body, allow_redirects=False
        ) as response:
            if response.status != REFUSED_SIGNATURE:
                if passed_signature_check(response.status):
                    self.schemes.accepted(origin, first)
                yield response
                return
            await _read_body(response, _POST_READ_LIMIT, truncate=True)  # keep the connection
        second = other_scheme(first)
        signed = await self._sign(method, url, headers, body, signer, second)
        async with session.request(
            method, target, headers=signed, data=body, allow_redirects=False
        ) as response:
            if passed_signature_check(response.status):
                self.schemes.accepted(origin, second)
                log.info(
                    "%s refused a %s signature (401) and took %s: signing with it from now on",
                    origin,
                    first,
                    second,
                    extra={"peer": host_of(url), "scheme": second},
                )
            yield response

    async def _sign(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        signer: Signer,
        scheme: Scheme,
    ) -> dict[str, str]:
        """``sign_request`` in the signing thread. An RSA signature is ~0.3 ms of CPU
        (2048 bits; 1.5 ms at 4096) during which cryptography lets go of the GIL, and a
        fan-out starts dozens of deliveries in one turn of the loop: signed on the loop,
        every request that arrives meanwhile waits for all of them (25 ms and more under
        bench_hostile's relays)."""
        if self._signing is None:
            raise RuntimeError("FederationClient.start() was not called")
        sign = functools.partial(sign_request, method, url, headers, body, signer, scheme=scheme)
        return await asyncio.get_running_loop().run_in_executor(self._signing, sign)

    def _check_url(self, url: URL) -> None:
        if url.scheme not in ("http", "https") or not url.host:
            raise FetchError(f"{url}: only absolute http(s) URLs can be fetched")
        if url.user is not None or url.password is not None:
            raise FetchError(f"{url}: URLs with credentials are refused")
        self.policy.check_host(url.host)


async def _read_body(response: aiohttp.ClientResponse, limit: int, truncate: bool) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit and not truncate:
        raise FetchError(f"{response.url}: body of {declared} bytes exceeds {limit} bytes")
    buffer = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        buffer += chunk
        if len(buffer) > limit:
            if truncate:
                return bytes(buffer[:limit])
            raise FetchError(f"{response.url}: body exceeds {limit} bytes")
    return bytes(buffer)


def _decode_object(answer: _Answer) -> dict[str, Any]:
    try:
        document = parse_json(answer.body)
    except ValueError as exc:
        raise FetchError(f"{answer.url} did not answer valid JSON") from exc
    if not isinstance(document, dict):
        raise FetchError(f"{answer.url} did not answer a JSON object")
    return document


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parse_http_date(value) - time.time())
    except ValueError:
        return None
