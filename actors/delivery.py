"""Putting the delivery worker together from the settings, for ``copub serve`` and
``copub worker``.

On SQLite only one worker may run per database file (SQLite serialises writers and a
second loop would only contend): :func:`worker_lock` takes an exclusive ``flock`` on a
file next to the database, so ``copub worker`` refuses to start while the server's
in-process worker runs, and the other way round. PostgreSQL needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator

from actors.errors import Conflict
from actors.remote import federation_client
from actors.settings import Settings
from actors.store.db import AsyncSession, async_sessionmaker, sqlite_file
from actors.store.jobs import WAKE_INFO_KEY, SqlJobQueue
from actors.store.peer_health import SqlPeerHealth
from actors.urls import Urls
from federation.client import FederationClient
from federation.delivery.breaker import BreakerPolicy
from federation.delivery.outcomes import DeliveryObserver
from federation.delivery.retry import RetryPolicy
from federation.delivery.worker import DeliveryWorker
from federation.httpsig.knock import SchemeMemory

log = logging.getLogger(__name__)


class WorkerBusy(Conflict):
    """Another delivery worker already runs on this SQLite database."""


def delivery_client(settings: Settings, schemes: SchemeMemory | None = None) -> FederationClient:
    """A client of its own for deliveries: the delivery timeout, and a connection pool
    sized to the per-host limit (connections are kept alive and reused per host);
    ``schemes``: the signature schemes peers take, as the process's other clients learnt."""
    return federation_client(
        settings,
        timeout_seconds=settings.federation.delivery_timeout_seconds,
        limit=max(100, settings.delivery.concurrency),
        limit_per_host=settings.delivery.per_host_concurrency,
        schemes=schemes,
    )


def build_worker(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: FederationClient,
    *,
    policy: RetryPolicy | None = None,
    observer: DeliveryObserver | None = None,
) -> DeliveryWorker:
    """The worker for these settings, sending through ``client``; ``sessions`` should be
    the process's own sessionmaker (on SQLite it serialises the process's writes)."""
    delivery = settings.delivery
    breaker = BreakerPolicy(max_hosts=delivery.breaker_max_hosts)
    return DeliveryWorker(
        # leases held as this process, those of dead ones taken back at start (its
        # callers hold the worker lock on SQLite: actors.store.holders)
        SqlJobQueue(sessions, Urls(settings.server.base_url), holders=True),
        client,
        policy=policy or RetryPolicy(max_age_seconds=delivery.give_up_after_hours * 3600),
        concurrency=delivery.concurrency,
        per_host=delivery.per_host_concurrency,
        lease_seconds=delivery.lease_seconds,
        poll_interval=delivery.poll_interval_seconds,
        breaker=breaker,
        observer=observer,  # metrics ([metrics] enabled)
        health=SqlPeerHealth(sessions, breaker),  # circuits and availability, shared
    )


def wake_on_commit(sessions: async_sessionmaker[AsyncSession], worker: DeliveryWorker) -> None:
    """Sessions from ``sessions`` wake ``worker`` after a commit that enqueued deliveries."""
    info = dict(sessions.kw.get("info") or {})
    info[WAKE_INFO_KEY] = worker.wake
    sessions.configure(info=info)


@contextlib.contextmanager
def worker_lock(database_url: str) -> Iterator[None]:
    """Hold the one-worker lock of a SQLite database (nothing on PostgreSQL).

    Raises :class:`WorkerBusy` when another process holds it."""
    path = sqlite_file(database_url)
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + ".delivery-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WorkerBusy(
                f"another delivery worker is running on {path} (copub serve with "
                "[delivery] in_process_worker = true, or another copub worker); "
                "SQLite allows one worker per database"
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
