"""aiohttp glue for incoming requests: bounded bodies and signature checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from federation.errors import PayloadTooLarge
from federation.httpsig.common import VerifiedSignature
from federation.httpsig.keystore import KeyResolver
from federation.httpsig.verify import DEFAULT_MAX_SKEW, verify_request

SIGNATURE_KEY = web.RequestKey("copub.signature", VerifiedSignature)
_CHUNK = 64 * 1024


async def read_limited_body(request: web.BaseRequest, limit: int) -> bytes:
    """The raw request body, or PayloadTooLarge (413) once it exceeds ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading anything;
    otherwise the stream is read in chunks and abandoned as soon as it is too long.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the body ({declared} bytes) exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def verify_aiohttp_request(
    request: web.BaseRequest,
    body: bytes,
    resolver: KeyResolver,
    *,
    scheme: str = "https",
    max_skew: float = DEFAULT_MAX_SKEW,
) -> VerifiedSignature:
    """verify_request() over an aiohttp request (raw target, raw headers)."""
    return await verify_request(
        request.method,
        request.raw_path,
        request.headers,
        body,
        resolver,
        scheme=scheme,
        max_skew=max_skew,
    )


async def require_signed_get(
    request: web.BaseRequest, resolver: KeyResolver, *, scheme: str = "https"
) -> VerifiedSignature:
    """Secure mode (authorized fetch): a GET must carry a valid signature, else 401."""
    return await verify_aiohttp_request(request, b"", resolver, scheme=scheme)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secure_mode_middleware(
    resolver_of: Callable[[web.Request], KeyResolver],
    applies: Callable[[web.Request], bool],
    *,
    scheme: str = "https",
) -> Middleware:
    """A middleware requiring signed GETs where ``applies(request)`` (e.g. AS2 requests).

    The verified signature is stored as ``request[SIGNATURE_KEY]``. SignatureError
    propagates, for the app's error middleware to turn into a 401.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in ("GET", "HEAD") and applies(request):
            request[SIGNATURE_KEY] = await require_signed_get(
                request, resolver_of(request), scheme=scheme
            )
        return await handler(request)

    return middleware
