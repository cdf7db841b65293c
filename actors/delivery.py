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
import resource
from collections.abc import Iterator

from actors.errors import Conflict
from actors.remote import federation_client
from actors.settings import Settings
from actors.store.db import AsyncSession, async_sessionmaker, sqlite_file
from actors.store.jobqueue import SqlJobQueue
from actors.store.jobs import WAKE_INFO_KEY
from actors.store.peer_health import SqlPeerHealth
from actors.urls import Urls
from federation.client import FederationClient
from federation.delivery.breaker import BreakerPolicy
from federation.delivery.outcomes import DeliveryObserver
from federation.delivery.retry import RetryPolicy
from federation.delivery.worker import DeliveryWorker
from federation.httpsig.knock import SchemeMemory

log = logging.getLogger(__name__)

OPEN_FILES_IF_UNLIMITED = 65_536  # the soft limit asked for when the hard one is unlimited


class WorkerBusy(Conflict):
    """Another delivery worker already runs on this SQLite database."""


def delivery_client(settings: Settings, schemes: SchemeMemory | None = None) -> FederationClient:
    """A client of its own for deliveries: the delivery timeout, and a connection pool
    sized to the per-host limit (connections are kept alive and reused per host);
    ``schemes``: the signature schemes peers take, as the process's other clients learnt.
    The process may then open as many files as its hard limit allows
    (:func:`raise_open_files_limit`)."""
    raise_open_files_limit()
    return federation_client(
        settings,
        timeout_seconds=settings.federation.delivery_timeout_seconds,
        limit=max(100, settings.delivery.concurrency),
        limit_per_host=settings.delivery.per_host_concurrency,
        schemes=schemes,
    )


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; returns the soft
    limit now. A delivering process holds a socket for every delivery in flight and every
    kept connection (federation/pool.py), besides the database's and the server's: the
    usual soft limit of 1,024 is soon reached (a connection then fails with EMFILE and its
    job waits for a retry), while the hard limit is usually far higher."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_IF_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # some systems cap it below the hard limit
            log.info("could not raise the open files limit from %d to %d", soft, wanted)
            return soft
        return wanted
    return soft


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
