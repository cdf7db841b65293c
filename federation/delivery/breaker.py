"""A circuit breaker per remote host: stop hammering a dead server, keep serving live ones.

Closed (normal) until ``failures`` consecutive failures (network errors, timeouts, 5xx);
then open for a cooldown, during which jobs for that host are put back without a request.
After the cooldown one job goes through as a probe (half-open): success closes the circuit,
failure opens it again for twice as long (up to ``max_cooldown_seconds``).
Only hosts with recent failures take memory; a success forgets the host, and at most
``max_hosts`` are remembered (the least recently failing is forgotten first: it starts
closed if it is tried again).

A circuit as data is a :class:`Circuit`, moved by :func:`circuit_after`: the same rule keeps
this process's circuits and the state shared by every worker (``federation.delivery.health``,
stored through the ``PeerHealthStore`` port); :meth:`CircuitBreakers.adopt` takes the shared
state in.
"""

from __future__ import annotations

import enum
import errno
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from federation.delivery.retry import is_permanent_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    cooldown_seconds: float = 30.0
    max_cooldown_seconds: float = 1800.0
    probe_wait_seconds: float = 15.0  # how long other jobs step aside while a probe runs
    max_hosts: int = 10_000  # failing hosts remembered; any number of hosts can fail
    # A host failing on this many distinct (UTC) days with no success between is
    # unavailable: its deliveries wait until it is heard from (Mastodon's rule).
    unavailable_after_days: int = 7
    # While a host is unavailable its jobs are put back for this long (never past the
    # retry period: then they fail as any job does).
    unavailable_recheck_seconds: float = 86_400.0


class Admit(enum.Enum):
    GO = "go"
    PROBE = "probe"  # the caller must report the outcome with record()


# A connection failing for want of this machine's resources (open files, memory, buffers,
# local ports) tells nothing of the peer: a fan-out over the open-files limit once failed
# hundreds of deliveries with EMFILE, each counted against a healthy host.
_LOCAL_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EADDRNOTAVAIL}
)


def is_local_error(error: BaseException) -> bool:
    """The error, or one of its causes, is this machine running out of something."""
    seen: BaseException | None = error
    for _depth in range(8):  # a chain of causes, never a cycle followed for ever
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in _LOCAL_ERRNOS:
            return True
        seen = seen.__cause__
    return False


def is_host_failure(status: int | None, error: BaseException | None) -> bool | None:
    """True: the host looks down; False: it answered; None: neither (429, our own refusal,
    our own shortage of resources)."""
    if error is not None:
        return None if is_permanent_error(error) or is_local_error(error) else True
    if status is None or status == 429:
        return None
    return status >= 500


@dataclass(frozen=True)
class CircuitView:
    """A host's circuit as an operator sees it: ``closed`` (``failures`` so far in a
    row), ``open`` until ``open_until`` (then one probe goes), or ``probing`` (a probe
    is in flight)."""

    state: str
    failures: int
    open_until: datetime | None


@dataclass(frozen=True, slots=True)
class Circuit:
    """A host's circuit as data: ``failures`` in a row; open until ``open_until`` (None:
    closed) after a cooldown of ``cooldown`` seconds."""

    failures: int = 0
    open_until: datetime | None = None
    cooldown: float = 0.0


def circuit_after(
    circuit: Circuit, failed: bool, now: datetime, policy: BreakerPolicy, *, probe: bool
) -> Circuit:
    """The circuit after a request that ``failed`` (or not) at ``now``; ``probe``: it was
    the one request let through a circuit whose cooldown had ended."""
    if not failed:  # closes it, unless the answer is to a request sent before it opened
        return Circuit() if probe or circuit.open_until is None else circuit
    failures = circuit.failures + 1
    if probe:
        cooldown = max(circuit.cooldown * 2, policy.cooldown_seconds)
        cooldown = min(cooldown, policy.max_cooldown_seconds)
    elif circuit.open_until is None and failures >= policy.failures:
        cooldown = policy.cooldown_seconds
    else:
        return Circuit(failures, circuit.open_until, circuit.cooldown)
    return Circuit(failures, now + timedelta(seconds=cooldown), cooldown)


@dataclass
class _Circuit:
    failures: int = 0
    open_until: datetime | None = None
    cooldown: float = 0.0
    probing: bool = False

    def data(self) -> Circuit:
        return Circuit(self.failures, self.open_until, self.cooldown)


class CircuitBreakers:
    """Circuits by host. Not thread-safe; one event loop uses it."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._circuits: OrderedDict[str, _Circuit] = OrderedDict()  # least recently failed first

    def __len__(self) -> int:
        """Hosts with a circuit (a recent failure)."""
        return len(self._circuits)

    def blocked_until(self, host: str, now: datetime) -> datetime | None:
        """When a job for ``host`` may try again, if it may not try now (no state change)."""
        circuit = self._circuits.get(host)
        if circuit is None or circuit.open_until is None:
            return None
        if now < circuit.open_until:
            return circuit.open_until
        if circuit.probing:
            return now + timedelta(seconds=self.policy.probe_wait_seconds)
        return None

    def admit(self, host: str, now: datetime) -> Admit | datetime:
        """GO, PROBE (first job after the cooldown), or the time to defer the job to."""
        blocked = self.blocked_until(host, now)
        if blocked is not None:
            return blocked
        circuit = self._circuits.get(host)
        if circuit is None or circuit.open_until is None:
            return Admit.GO
        circuit.probing = True
        return Admit.PROBE

    def record(self, host: str, failed: bool | None, now: datetime, *, probe: bool) -> None:
        """The outcome of a request to ``host`` (``failed`` as from :func:`is_host_failure`)."""
        circuit = self._circuits.get(host)
        if probe and circuit is not None:
            circuit.probing = False
        if failed is None:
            return
        if not failed:
            if circuit is not None and (probe or circuit.open_until is None):
                if circuit.open_until is not None:
                    log.info("circuit closed for %s", host, extra={"host": host})
                del self._circuits[host]
            return
        if circuit is None:
            circuit = self._remember(host)
        else:
            self._circuits.move_to_end(host)
        was_open_until = circuit.open_until
        after = circuit_after(circuit.data(), True, now, self.policy, probe=probe)
        circuit.failures, circuit.open_until = after.failures, after.open_until
        circuit.cooldown = after.cooldown
        if after.open_until != was_open_until:
            self._opened(host, circuit)

    def adopt(self, host: str, shared: Circuit) -> None:
        """Take in the host's circuit as every worker shares it (stored): it replaces what
        this process knew; a probe under way here stays marked."""
        circuit = self._circuits.get(host)
        if shared.failures == 0 and shared.open_until is None:
            if circuit is not None and not circuit.probing:
                del self._circuits[host]
            return
        if circuit is None:
            circuit = self._remember(host)
        circuit.failures, circuit.open_until = shared.failures, shared.open_until
        circuit.cooldown = shared.cooldown

    def circuit(self, host: str, now: datetime) -> CircuitView:
        """The host's circuit (no state change)."""
        circuit = self._circuits.get(host)
        if circuit is None:
            return CircuitView("closed", 0, None)
        if circuit.open_until is None:
            return CircuitView("closed", circuit.failures, None)
        state = "probing" if circuit.probing and now >= circuit.open_until else "open"
        return CircuitView(state, circuit.failures, circuit.open_until)

    def retry_now(self, host: str, now: datetime) -> bool:
        """An operator's "retry now": an open circuit's cooldown ends, so the next job
        for the host goes at once, as the probe (one request, not the whole backlog).
        False if the circuit was not open."""
        circuit = self._circuits.get(host)
        if circuit is None or circuit.open_until is None:
            return False
        circuit.open_until = min(circuit.open_until, now)
        log.info("circuit of %s: probe now (an operator's retry)", host, extra={"host": host})
        return True

    def is_open(self, host: str) -> bool:
        circuit = self._circuits.get(host)
        return circuit is not None and circuit.open_until is not None

    def _remember(self, host: str) -> _Circuit:
        circuit = self._circuits[host] = _Circuit()
        while len(self._circuits) > self.policy.max_hosts:
            self._circuits.popitem(last=False)
        return circuit

    def _opened(self, host: str, circuit: _Circuit) -> None:
        log.warning(
            "circuit open for %s after %d consecutive failures; pausing %.0f s",
            host,
            circuit.failures,
            circuit.cooldown,
            extra={"host": host, "failures": circuit.failures},
        )
