"""One middleware turns errors into a status and a JSON (or HTML) body; never a traceback.

The domain's errors (``actors.errors.CopubError``: their ``http_status``, ``message`` and
``field``) and the protocol's (``federation.errors.FederationError``: ``http_status`` and
``reason``) are answered here, and nowhere else."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from actors.errors import CopubError
from actors.web.negotiation import json_error, wants_html
from federation.errors import FederationError

log = logging.getLogger(__name__)


def _error_page(request: web.Request, status: int, reason: str) -> web.Response:
    response = aiohttp_jinja2.render_template(
        "error.html", request, {"status": status, "reason": reason}, status=status
    )
    return response


def _respond(
    request: web.Request, status: int, reason: str, field: str | None = None
) -> web.Response:
    if request.method == "GET" and wants_html(request):
        return _error_page(request, status, reason)
    return json_error(status, reason, field)


def _refused(request: web.Request, status: int, reason: str) -> None:
    log.info(
        "rejected %s %s: %s",
        request.method,
        request.path,
        reason,
        extra={"status": status, "remote": request.remote},
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FederationError as exc:
        _refused(request, exc.http_status, exc.reason)
        return _respond(request, exc.http_status, exc.reason)
    except CopubError as exc:
        _refused(request, exc.http_status, exc.message)
        return _respond(request, exc.http_status, exc.message, exc.field)
    except web.HTTPException as exc:
        if exc.status >= 400:
            reason = exc.reason if exc.status != 404 else "not found"
            return _respond(request, exc.status, reason)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(request, 500, "internal error")
