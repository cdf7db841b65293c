"""What the delivery worker needs from the outside: a job queue, something that POSTs, and
(optionally) a place where peers' health is shared.

A :class:`JobQueue` hands out leased :class:`DeliveryJob` s and takes back batches of
:class:`JobResult` s; what each :data:`Decision` means for storage is the queue's business.
:class:`PeerHealthStore` keeps each host's circuit and availability for every worker
(``federation.delivery.health``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from federation.keys import Signer

if TYPE_CHECKING:  # health.py imports the breaker, which imports retry, which imports this
    from federation.delivery.health import HostReport, PeerState


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """One activity for one inbox, leased to this worker until ``lease_until``."""

    id: int
    inbox: str
    host: str  # the per-host limits and the circuit breaker key on this
    body: bytes = field(repr=False)
    signer: Signer
    attempts: int  # attempts made before this one
    created_at: datetime  # retries stop ``RetryPolicy.max_age`` after this
    lease_until: datetime
    activity_id: str = ""  # the activity's IRI, for logs


@dataclass(frozen=True, slots=True)
class Done:
    """Delivered (2xx)."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again at ``at``; this attempt counts."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Gone:
    """The inbox answered 410: its owner no longer exists; stop delivering there."""


@dataclass(frozen=True, slots=True)
class Fail:
    """Give up: a permanent refusal, or retries exhausted."""

    reason: str


@dataclass(frozen=True, slots=True)
class Defer:
    """Not attempted (circuit open, worker stopping): try at ``at``; no attempt counted.

    ``host_wide``: the host takes nothing before ``at`` (its circuit is open, it is
    unavailable), so its other waiting jobs wait until then too. A dead follower's
    backlog was claimed and put back each time it came due, job by job: under
    bench/bench_hostile.py 60 % of what the worker claimed after four minutes."""

    at: datetime
    host_wide: bool = False


Decision = Done | Retry | Gone | Fail | Defer


@dataclass(frozen=True, slots=True)
class JobResult:
    job: DeliveryJob
    decision: Decision
    status: int | None = None  # HTTP status, when there was an answer
    error: str | None = None  # network error or a snippet of the refusal


class JobQueue(Protocol):
    """Durable delivery jobs. Every method may be called from one worker task at a time."""

    async def prepare(self) -> None:
        """Once, before the first claim: load what sending will need (keys), so the first
        deliveries do not pay for it."""
        ...

    async def claim(self, limit: int, lease_seconds: float) -> list[DeliveryJob]:
        """Up to ``limit`` due jobs, leased for ``lease_seconds``: nobody else gets them
        until they are completed or the lease expires (then they are due again)."""
        ...

    async def complete(self, results: Sequence[JobResult]) -> None:
        """Record a batch of outcomes in one transaction and release their leases.

        An outcome for a job whose lease was lost (expired and claimed again) is ignored."""
        ...

    def watch(self, wake: Callable[[], None]) -> AbstractAsyncContextManager[None]:
        """While entered, call ``wake()`` when another process enqueues jobs (may do nothing:
        the worker also polls)."""
        ...


class PostOutcome(Protocol):
    """What an inbox answered (``federation.client.PostResult`` fits)."""

    @property
    def status(self) -> int: ...

    @property
    def retry_after_seconds(self) -> float | None: ...

    @property
    def body_snippet(self) -> str: ...


class Sender(Protocol):
    """Signs and POSTs one activity (``federation.client.FederationClient`` fits).

    HTTP errors are outcomes; network failures raise (``FederationError`` or ``OSError``).
    """

    async def post_activity(self, inbox_url: str, body: bytes, signer: Signer) -> PostOutcome: ...


class PeerHealthStore(Protocol):
    """Peers' health shared by every worker: each host's circuit, its failing days and
    whether it is unavailable. Hosts never reported on need not be kept."""

    async def load(self, hosts: Collection[str]) -> Sequence[PeerState]:
        """The kept state of these hosts (one that is not kept is healthy)."""
        ...

    async def record(self, reports: Sequence[HostReport]) -> Sequence[PeerState]:
        """Fold a batch of reports, in order, into their hosts' states in one transaction
        (``federation.delivery.health.peer_after``); returns those hosts' new states."""
        ...
