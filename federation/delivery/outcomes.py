"""What the delivery worker tells an observer (metrics): each job's outcome and the class
of each failed attempt, in small fixed vocabularies.

Neither names a URL or a host: a label set that grows with the peers one talks to is
unbounded. ``failure_class`` sorts a failed attempt into a dozen classes instead."""

from __future__ import annotations

import ssl
from typing import Protocol

import aiohttp

from federation.delivery.ports import Decision, Defer, Done, Fail, Gone, Retry
from federation.errors import UnsafeAddress

OUTCOMES = ("done", "retry", "gone", "failed", "deferred")
FAILURE_CLASSES = (
    "timeout",
    "connection",
    "tls",
    "unsafe_address",
    "redirect",
    "unauthorized",
    "gone",
    "rate_limited",
    "client_error",
    "server_error",
    "other",
)


class DeliveryObserver(Protocol):
    """Told of every job a worker finishes with, and of every attempt that failed."""

    def finished(self, outcome: str) -> None:
        """A job left the worker: one of :data:`OUTCOMES` (``deferred``: not attempted, the
        host's circuit is open or the worker is stopping)."""
        ...

    def attempt_failed(self, failure: str) -> None:
        """An attempt failed: one of :data:`FAILURE_CLASSES`."""
        ...


def outcome_of(decision: Decision) -> str:
    """The name of ``decision`` among :data:`OUTCOMES`."""
    match decision:
        case Done():
            return "done"
        case Retry():
            return "retry"
        case Gone():
            return "gone"
        case Fail():
            return "failed"
        case Defer():
            return "deferred"


def failure_class(status: int | None, error: BaseException | None) -> str | None:
    """The class of a failed attempt (None: it did not fail, a 2xx answer). The sender's
    errors wrap the network's (``FetchError from TimeoutError``): their causes are read."""
    if error is not None:
        return _error_class(error)
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return "redirect"
    if status in (401, 403):
        return "unauthorized"
    if status == 410:
        return "gone"
    if status == 429:
        return "rate_limited"
    return "client_error" if status < 500 else "server_error"


def _error_class(error: BaseException) -> str:
    seen: BaseException | None = error
    for _depth in range(8):  # a chain of causes, never a cycle followed for ever
        if seen is None:
            break
        if isinstance(seen, UnsafeAddress):
            return "unsafe_address"
        if isinstance(seen, TimeoutError):
            return "timeout"
        if isinstance(seen, ssl.SSLError) or "SSL" in type(seen).__name__:
            return "tls"  # aiohttp's ClientSSLError is not an ssl.SSLError
        if isinstance(seen, OSError | aiohttp.ClientConnectionError):
            return "connection"  # refused, reset, unreachable, a DNS failure
        seen = seen.__cause__
    return "other"
