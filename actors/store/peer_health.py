"""Peers' health in the ``peer_health`` table: the ``PeerHealthStore`` port of the delivery
worker (:class:`SqlPeerHealth`), and what brings a peer back.

A host comes back (available again, its failing days forgotten) when a delivery to it
succeeds (:meth:`SqlPeerHealth.record`), when we hear from it (:func:`heard_from`: the
inbox processor, for the hosts whose activities it claims) or when an operator retries it
(:func:`reset_host`: ``copub deliveries retry --host``, the console). Then its deliveries
that were put back while it was unavailable are due at once.

The rule itself (circuit, failing days) is ``federation.delivery.health``: rows are read,
moved by ``peer_after`` and written back, locked meanwhile on PostgreSQL (workers flush at
the same time); SQLite has one writer.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.models import DeliveryRow
from actors.store.models_peers import PeerHealthRow
from actors.store.states import PENDING_JOBS
from federation.clock import utcnow
from federation.delivery.breaker import BreakerPolicy, Circuit
from federation.delivery.health import (
    HostReport,
    PeerState,
    PeerStatus,
    forget_failures,
    peer_after,
)

log = logging.getLogger(__name__)

__all__ = [
    "SqlPeerHealth",
    "heard_from",
    "list_peers",
    "reset_host",
    "states_of",
]

_TABLE: Table = PeerHealthRow.__table__  # type: ignore[assignment]
_STATE_COLUMNS = (
    "failures", "open_until", "cooldown_seconds", "failing_since", "failure_days",
    "last_failure_day", "unavailable_since", "last_success_at", "last_failure_at", "last_error",
)  # fmt: skip


class SqlPeerHealth:
    """``federation.delivery.ports.PeerHealthStore`` over ``peer_health``."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], policy: BreakerPolicy | None = None
    ) -> None:
        self.sessions = sessions
        self.policy = policy or BreakerPolicy()

    async def load(self, hosts: Collection[str]) -> list[PeerState]:
        async with self.sessions() as session:
            return list((await states_of(session, hosts)).values())

    async def record(self, reports: Sequence[HostReport]) -> list[PeerState]:
        if not reports:
            return []
        async with self.sessions.begin() as session:
            return await record_reports(session, reports, self.policy)


def state_of(row: PeerHealthRow) -> PeerState:
    return PeerState(
        host=row.host,
        circuit=Circuit(row.failures, row.open_until, row.cooldown_seconds),
        failing_since=row.failing_since,
        failure_days=row.failure_days,
        last_failure_day=row.last_failure_day,
        unavailable_since=row.unavailable_since,
        last_success_at=row.last_success_at,
        last_failure_at=row.last_failure_at,
        last_error=row.last_error,
    )


def _values(state: PeerState) -> dict[str, Any]:
    circuit = state.circuit
    return {
        "failures": circuit.failures,
        "open_until": circuit.open_until,
        "cooldown_seconds": circuit.cooldown,
        "failing_since": state.failing_since,
        "failure_days": state.failure_days,
        "last_failure_day": state.last_failure_day,
        "unavailable_since": state.unavailable_since,
        "last_success_at": state.last_success_at,
        "last_failure_at": state.last_failure_at,
        "last_error": state.last_error[:2000] if state.last_error else None,
    }


async def states_of(session: AsyncSession, hosts: Iterable[str]) -> dict[str, PeerState]:
    """The kept states of these hosts, by host (a host without a row is not there)."""
    wanted = sorted(set(hosts))
    if not wanted:
        return {}
    rows = await session.scalars(select(PeerHealthRow).where(PeerHealthRow.host.in_(wanted)))
    return {row.host: state_of(row) for row in rows}


async def record_reports(
    session: AsyncSession, reports: Sequence[HostReport], policy: BreakerPolicy
) -> list[PeerState]:
    """Fold ``reports`` into their hosts' rows in the caller's transaction; the new states.
    A host that comes back from unavailable has its put-back deliveries due now."""
    hosts = sorted({report.host for report in reports})
    now = utcnow()
    postgresql = session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgresql else sqlite_insert
    # Every host gets its row first, so that the rows can be locked; in host order, as
    # the lock below, so that two workers' flushes never wait for each other in a circle.
    fresh = {"failures": 0, "cooldown_seconds": 0.0, "failure_days": 0, "updated_at": now}
    await session.execute(
        insert(PeerHealthRow).on_conflict_do_nothing(index_elements=["host"]),
        [{"host": host, **fresh} for host in hosts],
    )
    query = select(PeerHealthRow).where(PeerHealthRow.host.in_(hosts)).order_by(PeerHealthRow.host)
    if postgresql:
        query = query.with_for_update()
    rows = list(await session.scalars(query.execution_options(populate_existing=True)))
    before = {row.host: state_of(row) for row in rows}
    after = dict(before)
    for report in reports:
        after[report.host] = peer_after(after[report.host], report, policy)
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.host == bindparam("b_host"))
        .values({name: bindparam(f"b_{name}") for name in (*_STATE_COLUMNS, "updated_at")}),
        [
            {"b_host": host, "b_updated_at": now}
            | {f"b_{name}": value for name, value in _values(state).items()}
            for host, state in after.items()
        ],
    )
    for host, state in after.items():
        _log_change(before[host], state)
    back = [h for h, s in after.items() if before[h].unavailable and not s.unavailable]
    await _due_again(session, back, now)
    return list(after.values())


def _log_change(before: PeerState, after: PeerState) -> None:
    if before.status is after.status:
        return
    extra = {"host": after.host, "failure_days": after.failure_days}
    if after.status is PeerStatus.UNAVAILABLE:
        log.warning("%s is unavailable: deliveries failed on %d days; they wait until it is "
                    "back", after.host, after.failure_days, extra=extra)  # fmt: skip
    elif before.status is PeerStatus.UNAVAILABLE:
        log.info("%s is available again", after.host, extra=extra)


async def _due_again(session: AsyncSession, hosts: Sequence[str], now: datetime) -> int:
    """The waiting deliveries of hosts that are back are due now."""
    if not hosts:
        return 0
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.host.in_(hosts),
            DeliveryRow.state.in_(PENDING_JOBS),
            DeliveryRow.next_try_at > now,
        )
        .values(next_try_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def heard_from(session: AsyncSession, hosts: Iterable[str], now: datetime) -> list[str]:
    """An activity signed on each of ``hosts`` reached us: those that were failing are
    well again (their failing days forgotten; those that were unavailable have their
    deliveries due now). One read by primary key when none was failing (the usual case).
    Returns the hosts that changed."""
    wanted = sorted(set(hosts))
    if not wanted:
        return []
    failing = or_(PeerHealthRow.failure_days > 0, PeerHealthRow.unavailable_since.is_not(None))
    query = select(PeerHealthRow).where(PeerHealthRow.host.in_(wanted), failing)
    rows = list(await session.scalars(query.order_by(PeerHealthRow.host).with_for_update()))
    back = []
    for row in rows:
        if row.unavailable_since is not None:
            back.append(row.host)
            log.info("%s is available again: heard from it", row.host, extra={"host": row.host})
        _write(row, forget_failures(state_of(row)), now)
    await session.flush()
    await _due_again(session, back, now)
    return [row.host for row in rows]


async def reset_host(session: AsyncSession, host: str, now: datetime) -> bool:
    """An operator's retry of ``host``: available again, its failing days forgotten, and an
    open circuit half-open at once (its next delivery goes as the probe; the others follow
    if it lands). False when the host had nothing to reset."""
    row = await session.get(PeerHealthRow, host, with_for_update=True)
    if row is None:
        return False
    before = state_of(row)
    state = forget_failures(before)
    circuit = state.circuit
    if circuit.open_until is not None and circuit.open_until > now:
        state = replace(state, circuit=replace(circuit, open_until=now))
    if state == before:
        return False
    _write(row, state, now)
    await session.flush()
    log.info("%s reset by an operator", host, extra={"host": host})
    return True


def _write(row: PeerHealthRow, state: PeerState, now: datetime) -> None:
    for name, value in _values(state).items():
        setattr(row, name, value)
    row.updated_at = now


async def list_peers(
    session: AsyncSession, *, limit: int, only_failing: bool = False
) -> list[PeerState]:
    """The peers, the unavailable first, then the failing (each the longest first), then
    the others by host; at most ``limit``."""
    query = select(PeerHealthRow)
    if only_failing:
        query = query.where(
            or_(PeerHealthRow.failure_days > 0, PeerHealthRow.unavailable_since.is_not(None))
        )
    query = query.order_by(
        PeerHealthRow.unavailable_since.is_(None),
        PeerHealthRow.unavailable_since,
        PeerHealthRow.failing_since.is_(None),
        PeerHealthRow.failing_since,
        PeerHealthRow.host,
    ).limit(limit)
    return [state_of(row) for row in await session.scalars(query)]
