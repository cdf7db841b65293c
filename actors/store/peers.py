"""Delivery health per peer (the host of an inbox), for operators: how many deliveries
wait, retry or failed for each server and what its latest answer was; and "retry now"
for one peer, one delivery or all (the console's server page, ``copub deliveries retry``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.store import wakeups
from actors.store.jobs import UNDONE, Retried, retry_jobs_now
from actors.store.models import DeliveryRow
from actors.store.peer_health import reset_host
from actors.store.states import PENDING_JOBS, JobState

__all__ = [
    "PeerHealth",
    "Retried",
    "peer_health",
    "retry_all_now",
    "retry_delivery_now",
    "retry_host_now",
]


@dataclass(frozen=True)
class PeerHealth:
    """A host's undone deliveries: counts by state, when the next one is due, and the
    status and error of its latest try (None: not tried yet, or no error kept)."""

    host: str
    queued: int
    retrying: int
    failed: int
    next_try_at: datetime | None
    last_try_at: datetime | None
    last_status: int | None
    last_error: str | None

    @property
    def failing(self) -> bool:
        return bool(self.retrying or self.failed)


def _sum_of(state: JobState) -> object:
    return func.sum(case((DeliveryRow.state == state, 1), else_=0))


async def peer_health(
    session: AsyncSession, *, limit: int, community_id: int | None = None
) -> list[PeerHealth]:
    """The hosts with undone deliveries (of one community, or all), the most failing
    first, at most ``limit``; two queries whatever the number of deliveries."""
    where: list[ColumnElement[bool]] = [DeliveryRow.state.in_(UNDONE)]
    if community_id is not None:
        where.append(DeliveryRow.community_id == community_id)
    failing = _sum_of(JobState.RETRYING) + _sum_of(JobState.FAILED)  # type: ignore[operator]
    pending = DeliveryRow.state.in_(PENDING_JOBS)
    rows = (
        await session.execute(
            select(
                DeliveryRow.host,
                _sum_of(JobState.QUEUED),  # type: ignore[call-overload]
                _sum_of(JobState.RETRYING),
                _sum_of(JobState.FAILED),
                func.min(case((pending, DeliveryRow.next_try_at), else_=None)),
            )
            .where(*where)
            .group_by(DeliveryRow.host)
            .order_by(failing.desc(), func.count().desc(), DeliveryRow.host)
            .limit(limit)
        )
    ).all()
    latest = await _latest_tries(session, [row[0] for row in rows], where)
    return [
        PeerHealth(host, int(queued or 0), int(retrying or 0), int(failed or 0), next_try,
                   *latest.get(host, (None, None, None)))
        for host, queued, retrying, failed, next_try in rows
    ]  # fmt: skip


async def _latest_tries(
    session: AsyncSession, hosts: list[str], where: list[ColumnElement[bool]]
) -> dict[str, tuple[datetime | None, int | None, str | None]]:
    """For each host, (when, status, error) of its most recent try among ``where``."""
    if not hosts:
        return {}
    ranked = (
        select(
            DeliveryRow.host,
            DeliveryRow.updated_at,
            DeliveryRow.last_status,
            DeliveryRow.last_error,
            func.row_number()
            .over(
                partition_by=DeliveryRow.host,
                order_by=(DeliveryRow.updated_at.desc(), DeliveryRow.id.desc()),
            )
            .label("n"),
        )
        .where(*where, DeliveryRow.host.in_(hosts), DeliveryRow.attempts > 0)
        .subquery()
    )
    tried = aliased(ranked)
    rows = await session.execute(
        select(tried.c.host, tried.c.updated_at, tried.c.last_status, tried.c.last_error).where(
            tried.c.n == 1
        )
    )
    return {host: (at, status, error) for host, at, status, error in rows}


async def retry_host_now(session: AsyncSession, host: str, now: datetime) -> Retried:
    """Make every undone delivery to ``host`` due now (``jobs.retry_jobs_now``), and reset
    the host's health (available again; an open circuit lets the next delivery through as
    its probe: ``peer_health.reset_host``). The worker takes them at once: the process
    running it is woken (``actors.store.wakeups``)."""
    reset = await reset_host(session, host, now)
    retried = await retry_jobs_now(session, DeliveryRow, DeliveryRow.host == host, now)
    await _notify_workers(session, retried)
    return replace(retried, peer_reset=reset)


async def retry_delivery_now(session: AsyncSession, delivery_id: int, now: datetime) -> Retried:
    """The same for one delivery (nothing when it is done or there is no such delivery)."""
    retried = await retry_jobs_now(session, DeliveryRow, DeliveryRow.id == delivery_id, now)
    await _notify_workers(session, retried)
    return retried


async def retry_all_now(session: AsyncSession, now: datetime) -> Retried:
    """The same for every undone delivery, whatever its host."""
    retried = await retry_jobs_now(session, DeliveryRow, true(), now)
    await _notify_workers(session, retried)
    return retried


async def _notify_workers(session: AsyncSession, retried: Retried) -> None:
    if retried.total:
        await wakeups.announce(session, wakeups.DELIVERIES)
