"""A peer's health as every worker shares it: its circuit, and whether it is unavailable.

Each attempt that tells something of a host (it answered, or it looked down: see
``breaker.is_host_failure``) becomes a :class:`HostReport`; :func:`peer_after` folds reports
into a host's :class:`PeerState`, one after the other, wherever the state is kept (the
``PeerHealthStore`` port: a table shared by the fleet).

The long-term rule is Mastodon's: a host that fails on ``unavailable_after_days`` distinct
days (UTC), with no success in between, is *unavailable*. Deliveries to it wait (they are
not sent and not failed for it) until the host is heard from again: one delivery to it
succeeds, an activity signed on it reaches our inbox, or an operator retries it. A success
forgets the failing days, so a host that is down now and then never gets there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from federation.delivery.breaker import BreakerPolicy, Circuit, circuit_after


class PeerStatus(enum.StrEnum):
    AVAILABLE = "available"
    FAILING = "failing"  # failed since its last success; still tried
    UNAVAILABLE = "unavailable"  # failed on too many days; nothing is sent until it is back


@dataclass(frozen=True, slots=True)
class HostReport:
    """One attempt's verdict on its host, at ``at``: ``failed`` (it looked down) or not (it
    answered); ``probe``: the attempt was its circuit's probe."""

    host: str
    at: datetime
    failed: bool
    probe: bool = False
    error: str | None = None  # what failed, for operators


@dataclass(frozen=True, slots=True)
class PeerState:
    """What is known of a host's health; a host never tried is ``PeerState(host)``."""

    host: str
    circuit: Circuit = field(default_factory=Circuit)
    failing_since: datetime | None = None  # the first failure since the last success
    failure_days: int = 0  # distinct days with a failure since the last success
    last_failure_day: date | None = None
    unavailable_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None

    @property
    def status(self) -> PeerStatus:
        if self.unavailable_since is not None:
            return PeerStatus.UNAVAILABLE
        if self.failing_since is not None:
            return PeerStatus.FAILING
        return PeerStatus.AVAILABLE

    @property
    def unavailable(self) -> bool:
        return self.unavailable_since is not None


def peer_after(state: PeerState, report: HostReport, policy: BreakerPolicy) -> PeerState:
    """``state`` after ``report`` (of the same host)."""
    circuit = circuit_after(state.circuit, report.failed, report.at, policy, probe=report.probe)
    if not report.failed:
        return forget_failures(replace(state, circuit=circuit, last_success_at=report.at))
    day = report.at.astimezone(UTC).date()
    days, last_day = state.failure_days, state.last_failure_day
    if last_day is None or day > last_day:  # a day not counted yet (a clock going back: not)
        days, last_day = days + 1, day
    unavailable_since = state.unavailable_since
    if unavailable_since is None and days >= policy.unavailable_after_days:
        unavailable_since = report.at
    return replace(
        state,
        circuit=circuit,
        failing_since=state.failing_since or report.at,
        failure_days=days,
        last_failure_day=last_day,
        unavailable_since=unavailable_since,
        last_failure_at=report.at,
        last_error=report.error,
    )


def forget_failures(state: PeerState) -> PeerState:
    """The host is alive (it answered, or sent us something): its failing days are
    forgotten and it is available again. The circuit is left as it is: it has a rule of its
    own (an inbox can be down while the rest of a server works)."""
    return replace(state, failing_since=None, failure_days=0, last_failure_day=None,
                   unavailable_since=None)  # fmt: skip
