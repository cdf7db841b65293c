"""Prometheus metrics: what copub counts, the HTTP timing middleware, and ``/metrics`` on a
listener of its own (``[metrics] enabled``, ``listen``; off by default, never on the main
port).

Every label has a fixed, small set of values: an inbox refusal's reason, a delivery's
outcome, a failed attempt's class (``federation.delivery.outcomes``), a key lookup's
result, a route's template (``/c/{slug}/inbox``, never the URL asked for). No label names a
peer, a URL or a community: their number has no bound.

One process: the metrics live in a registry of the app's own. Several (``copub serve``
processes, ``copub worker`` beside them): give each the same ``PROMETHEUS_MULTIPROC_DIR``
(an empty directory when they start); each writes its counts there and ``/metrics`` adds
up those of all. Queue depths are read from the database at each scrape.

``copub serve --workers N`` sets that up for its processes (:func:`fleet_directory`): the
directory named in the environment, cleared of what processes no longer running left
there, or else a new one of its own, removed when it stops. Every member binds the metrics
port too (``SO_REUSEPORT``), and whichever answers a scrape answers for all of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from actors.settings import ConfigError, Settings
from actors.store import health
from actors.web.keys import SESSIONS
from federation.delivery.outcomes import FAILURE_CLASSES, OUTCOMES, DeliveryObserver

log = logging.getLogger(__name__)

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
# an inbox refusal's reason, by the status federation.inbox answers it with
REJECTIONS: Final = {
    400: "malformed",  # not JSON, no id/type/actor, an id too long, an unusable shape
    401: "signature",  # unsigned, not verifying, or not signed by the actor
    403: "origin",  # the activity's id is not on the signer's origin
    404: "unknown_recipient",  # no such community
    413: "too_large",
    415: "media_type",
    503: "key_busy",  # too many key fetches under way: the sender retries
    500: "error",  # our fault (the store failed)
}
REJECTION_REASONS: Final = (*REJECTIONS.values(), "other")
KEY_LOOKUPS: Final = ("hit", "miss", "expired", "shared", "refresh")  # federation.httpsig.keystore
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED: Final = "unmatched"  # the route label of every request no route matched
HTTP_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOOP_LAG_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
LOOP_LAG_INTERVAL: Final = 0.5  # seconds between the loop-lag timer's samples
LAG_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


_PID_FILE: Final = re.compile(r"_(\d+)\.db\Z")  # counter_1234.db, gauge_livesum_1234.db


def multiproc_dir() -> str | None:
    """The shared directory of several processes' metrics, when one is set."""
    return os.environ.get(MULTIPROC_ENV) or None


@contextlib.contextmanager
def fleet_directory(settings: Settings, processes: int) -> Iterator[str | None]:
    """The metrics directory of ``copub serve`` and its ``processes`` web processes, while
    they run; None when no directory is needed (metrics off, or one process without
    ``PROMETHEUS_MULTIPROC_DIR``).

    ``PROMETHEUS_MULTIPROC_DIR`` when set (shared with ``copub worker`` processes on this
    machine), emptied of the files of processes that no longer run: an earlier run's
    counts are not added to this one's; a running worker's stay. Otherwise a new
    directory, removed afterwards."""
    given = multiproc_dir()
    if not settings.metrics.enabled or (given is None and processes == 1):
        yield None
        return
    if given is not None:
        os.makedirs(given, exist_ok=True)
        removed = clear_dead_processes(given)
        if removed:
            log.info("metrics: removed %d files of earlier processes from %s", removed, given)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="copub-metrics-") as directory:
        yield directory


def clear_dead_processes(directory: str) -> int:
    """Remove the files of processes not running any more from ``directory``; how many."""
    removed = 0
    for name in os.listdir(directory):
        found = _PID_FILE.search(name)
        if found is not None and not _running(int(found.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(directory, name))
                removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # not a pid at all
        return False
    return True


def process_gone(directory: str, pid: int) -> None:
    """A process writing to ``directory`` has ended: its counts stay (totals do not go
    down), its live gauges go (prometheus-client's ``mark_process_dead``)."""
    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class _Deliveries:
    """The delivery worker's observer (federation.delivery.outcomes.DeliveryObserver)."""

    def __init__(self, outcomes: Counter, failures: Counter) -> None:
        self._outcomes = outcomes
        self._failures = failures

    def finished(self, outcome: str) -> None:
        self._outcomes.labels(outcome).inc()

    def attempt_failed(self, failure: str) -> None:
        self._failures.labels(failure).inc()


class Metrics:
    """The process's metrics. In multi-process mode their values go to files in
    ``PROMETHEUS_MULTIPROC_DIR``, which must be set when the process starts."""

    def __init__(self) -> None:
        directory = multiproc_dir()
        self.multiprocess = directory is not None
        if directory is not None:
            if not os.path.isdir(directory):
                raise ConfigError(f"{MULTIPROC_ENV}={directory} is not a directory")
            if values.ValueClass is values.MutexValue:  # read when prometheus_client loaded
                raise ConfigError(f"{MULTIPROC_ENV} must be set before copub starts")
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        # multi-process: the values live in the files, collected at each scrape
        self.registry = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        reg = self.registry
        if reg is not None:  # the process's own CPU, memory, files, GC (one process only)
            ProcessCollector(registry=reg)
            PlatformCollector(registry=reg)
            reg.register(GC_COLLECTOR)
        self.inbox_accepted = Counter(
            "copub_inbox_accepted", "Activities an inbox accepted (202).", registry=reg
        )
        self.inbox_rejected = Counter(
            "copub_inbox_rejected", "Inbox POSTs refused, by reason.", ["reason"], registry=reg
        )
        self.inbox_lag = Histogram(
            "copub_inbox_processing_lag_seconds",
            "From an activity's arrival to the end of its processing (each attempt).",
            buckets=LAG_BUCKETS,
            registry=reg,
        )
        deliveries = Counter(
            "copub_deliveries", "Delivery jobs finished, by outcome.", ["outcome"], registry=reg
        )
        failures = Counter(
            "copub_delivery_failures",
            "Failed delivery attempts, by class (never by host).",
            ["class"],
            registry=reg,
        )
        self.key_lookups = Counter(
            "copub_key_cache_lookups",
            "Public key lookups of incoming signatures, by result.",
            ["result"],
            registry=reg,
        )
        self.http_duration = Histogram(
            "copub_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status class.",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=reg,
        )
        self.loop_lag = Histogram(
            "copub_event_loop_lag_seconds",
            "How much later than due the event loop ran a timer (every request waiting "
            "meanwhile waited as long), sampled every half second.",
            buckets=LOOP_LAG_BUCKETS,
            registry=reg,
        )
        for counter, labels in (
            (self.inbox_rejected, REJECTION_REASONS),
            (deliveries, OUTCOMES),
            (failures, FAILURE_CLASSES),
            (self.key_lookups, KEY_LOOKUPS),
        ):
            for label in labels:
                counter.labels(label)  # every series from the start, at 0
        self.delivery: DeliveryObserver = _Deliveries(deliveries, failures)

    def key_lookup(self, result: str) -> None:
        self.key_lookups.labels(result).inc()

    def inbox_answered(self, status: int | None) -> None:
        """An inbox POST was accepted (``status`` None) or refused with ``status``."""
        if status is None:
            self.inbox_accepted.inc()
        else:
            self.inbox_rejected.labels(REJECTIONS.get(status, "other")).inc()

    def observe_lag(self, seconds: float) -> None:
        self.inbox_lag.observe(max(0.0, seconds))

    def collectors(self) -> list[Collector]:
        """Where this process's scrape reads the counters: its registry, or every
        process's files."""
        if self.registry is not None:
            return [self.registry]
        return [MultiProcessCollector(None, path=multiproc_dir())]  # type: ignore[no-untyped-call]


METRICS = web.AppKey("metrics", Metrics)


def route_label(request: web.Request) -> str:
    """The template of the route that matched (``/c/{slug}/inbox``), or ``unmatched``."""
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def http_middleware(metrics: Metrics) -> Middleware:
    """Times every request, outermost (errors are answered inside it)."""

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects and what a handler raised as its answer
            status = exc.status
            raise
        finally:
            method = request.method if request.method in METHODS else "other"
            metrics.http_duration.labels(
                method, route_label(request), f"{status // 100}xx"
            ).observe(time.perf_counter() - started)

    return timed


class _Snapshot:
    """One scrape: the counters' collectors and the families read from the database."""

    def __init__(self, sources: Iterable[Collector], families: Sequence[Metric]) -> None:
        self._sources = sources
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for source in self._sources:
            yield from source.collect()
        yield from self._families


async def _database_families(app: web.Application) -> list[Metric]:
    """The queue depths, read now (the same for every process), and whether the database
    answered."""
    up = GaugeMetricFamily("copub_database_up", "1 when the last scrape reached the database.")
    try:
        async with app[SESSIONS]() as session:
            depths = await health.queue_depths(session)
    except Exception:  # any failure means down; the rest is still served
        log.warning("metrics: could not read the queue depths", exc_info=True)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    inbox = GaugeMetricFamily(
        "copub_inbox_pending",
        "Stored activities not applied yet (retries included).",
        value=depths.inbox_pending,
    )
    deliveries = GaugeMetricFamily(
        "copub_deliveries_pending", "Deliveries queued or retrying.", labels=["state"]
    )
    for state, count in depths.deliveries.items():
        deliveries.add_metric([state.value], count)
    return [up, inbox, deliveries]


def render(metrics: Metrics, families: Sequence[Metric] = ()) -> bytes:
    """The text format of ``metrics`` (all processes' in multi-process mode) and
    ``families``."""
    return generate_latest(_Snapshot(metrics.collectors(), families))


def scrape_handler(metrics: Metrics, app: web.Application) -> Handler:
    """``GET /metrics`` of the listener, reading ``app``'s database."""

    async def scrape(_request: web.Request) -> web.Response:
        body = render(metrics, await _database_families(app))
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return scrape


async def _listener(app: web.Application) -> AsyncIterator[None]:
    """``/metrics`` at ``[metrics] listen``, while the app runs."""
    host, port = app[METRICS_SETTINGS]
    metrics = app[METRICS]
    scrape_app = web.Application()
    scrape_app.router.add_get("/metrics", scrape_handler(metrics, app))
    runner = web.AppRunner(scrape_app, access_log=None)
    await runner.setup()
    # several processes on one machine share the port; each answers for all of them
    site = web.TCPSite(runner, host, port, reuse_port=metrics.multiprocess or None)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        hint = "" if metrics.multiprocess else f" (several processes need {MULTIPROC_ENV})"
        raise ConfigError(f"[metrics] listen {host}:{port}: {exc}{hint}") from exc
    log.info("metrics at http://%s:%d/metrics", host, port)
    try:
        yield
    finally:
        await runner.cleanup()


async def watch_loop_lag(
    observe: Callable[[float], None], interval: float = LOOP_LAG_INTERVAL
) -> None:
    """Sleep ``interval`` again and again, and ``observe`` how much later than asked each
    wake-up came: the time the loop spent on other work first (a CPU-bound callback, a
    blocking call, the garbage collector, the process waiting for a CPU). Until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        observe(max(0.0, loop.time() - due))


async def _loop_lag(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(watch_loop_lag(app[METRICS].loop_lag.observe), name="loop-lag")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


METRICS_SETTINGS = web.AppKey("metrics_address", tuple[str, int])


def setup(app: web.Application, settings: Settings) -> Metrics | None:
    """With ``[metrics] enabled``: the metrics, their middleware and their listener (call it
    after the database's context, which the scrape reads). None when off."""
    if not settings.metrics.enabled:
        return None
    metrics = Metrics()
    app[METRICS] = metrics
    app[METRICS_SETTINGS] = settings.metrics.address
    app.middlewares.insert(0, http_middleware(metrics))
    app.cleanup_ctx.append(_listener)
    app.cleanup_ctx.append(_loop_lag)
    return metrics


def worker_observer(settings: Settings) -> DeliveryObserver | None:
    """``copub worker``'s delivery counts: written to the shared directory, where a
    server's ``/metrics`` finds them. Without one nobody could read them: none."""
    if not settings.metrics.enabled:
        return None
    if multiproc_dir() is None:
        log.info("copub worker's metrics need %s (shared with copub serve)", MULTIPROC_ENV)
        return None
    return Metrics().delivery
