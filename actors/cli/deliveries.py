"""``copub worker`` and ``copub deliveries``: running and inspecting outgoing deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import datetime

import click

from actors import retention
from actors.cli.support import in_transaction, new_event_loop, settings_of
from actors.delivery import build_worker, delivery_client, worker_lock
from actors.settings import Settings
from actors.store import jobs, peer_health, peers
from actors.store.db import (
    AsyncSession,
    async_sessionmaker,
    create_engine,
    is_sqlite,
    sessionmaker,
)
from actors.store.schema import require_current
from actors.store.states import PENDING_JOBS, JobState
from actors.web import digest_pages
from actors.web.metrics import worker_observer
from federation.clock import utcnow
from federation.delivery.health import PeerState, PeerStatus
from federation.origins import host_of

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]


@click.command("worker")
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Deliver queued activities until stopped (Ctrl-C or SIGTERM).

    On PostgreSQL run as many as you like, next to `copub serve` (whose own worker
    [delivery] in_process_worker turns off). On SQLite only one worker may run: set
    in_process_worker = false for the server if you run this. The database must be at this
    copub's schema: the worker does not migrate (copub migrate, or copub serve, does)."""
    settings = settings_of(ctx)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_work(settings))


async def _work(settings: Settings) -> None:
    with worker_lock(settings.database.url):
        engine = create_engine(settings.database.url)
        client = delivery_client(settings)
        try:
            await require_current(engine)
            await client.start()
            sessions = sessionmaker(engine)
            loop_worker = build_worker(
                settings, sessions, client, observer=worker_observer(settings)
            )
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, loop_worker.stop)
            kind = "SQLite" if is_sqlite(settings.database.url) else "PostgreSQL"
            log.info("delivery worker starting on %s", kind)
            async with _purging(settings, sessions), digest_pages.beside_worker(settings, sessions):
                await loop_worker.run()
            log.info("delivery worker stopped: %s", loop_worker.counts)
        finally:
            await client.close()
            await engine.dispose()


@contextlib.asynccontextmanager
async def _purging(settings: Settings, sessions: Sessions) -> AsyncIterator[None]:
    """Retention's periodic purge beside the worker ([retention] every_minutes; 0: none)."""
    if settings.retention.every_minutes <= 0:
        yield
        return
    task = asyncio.create_task(
        retention.run_periodically(sessions, settings.retention, retention.purgers())
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@click.group("deliveries", invoke_without_command=True)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([state.value for state in JobState]),
    help="Only these states (repeatable; default: queued, retrying, failed).",
)
@click.option("--limit", default=50, show_default=True, help="At most this many jobs.")
@click.pass_context
def deliveries(ctx: click.Context, states: tuple[str, ...], limit: int) -> None:
    """Show the delivery queue: counts per state, then the jobs themselves
    (`copub deliveries retry`: make them due now)."""
    if ctx.invoked_subcommand is not None:
        return
    wanted = states or jobs.UNDONE

    async def work(session: AsyncSession) -> tuple[dict[JobState, int], list[jobs.DeliveryView]]:
        return await jobs.delivery_stats(session), await jobs.list_deliveries(
            session, wanted, limit
        )

    counts, rows = in_transaction(ctx, work)
    click.echo("  ".join(f"{state} {counts[state]}" for state in JobState))
    if not rows:
        return
    now = utcnow()
    click.echo(f"{'id':>7}  {'state':8}  {'tries':>5}  {'next try':10}  {'last':6}  inbox")
    for row in rows:
        when = _relative(row.next_try_at, now) if row.state in PENDING_JOBS else "-"
        last = str(row.last_status) if row.last_status is not None else "-"
        click.echo(
            f"{row.id:>7}  {row.state:8}  {row.attempts:>5}  {when:10}  {last:6}  {row.inbox}"
        )
        click.echo(f"{'':>7}  activity {row.activity}")
        if row.last_error:
            error = " ".join(row.last_error.split())
            click.echo(f"{'':>7}  error: {error[:200]}")


def _relative(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    if seconds <= 0:
        return "due"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"in {seconds / size:.0f}{unit}"
    return f"in {seconds:.0f}s"


@deliveries.command("retry")
@click.option("--host", help="Only the deliveries to this server (host[:port], or a URL on it).")
@click.option("--id", "delivery_id", type=int, help="Only this delivery (its id in the list).")
@click.pass_context
def retry(ctx: click.Context, host: str | None, delivery_id: int | None) -> None:
    """Make waiting deliveries due now, and failed ones due once more: all of them, those
    to one server, or one delivery. The running worker sends them within a second (on
    PostgreSQL worker processes are told at once). With --host the server's health is
    reset too: available again, its failing days forgotten, an open circuit half-open."""
    if host is not None and delivery_id is not None:
        raise click.UsageError("give --host or --id, not both")
    target = None
    if host is not None:
        target = host_of(host) if "://" in host else host.strip().lower()
        if not target:
            raise click.BadParameter(f"{host!r} is not a host", param_hint="--host")

    async def work(session: AsyncSession) -> peers.Retried:
        now = utcnow()
        if delivery_id is not None:
            return await peers.retry_delivery_now(session, delivery_id, now)
        if target is not None:
            return await peers.retry_host_now(session, target, now)
        return await peers.retry_all_now(session, now)

    retried = in_transaction(ctx, work)
    if delivery_id is not None and not retried.total:
        raise click.ClickException(f"delivery {delivery_id} is done or does not exist")
    to = f" to {target}" if target is not None else ""
    click.echo(
        f"{retried.total} deliveries{to} due now ({retried.waiting} waiting, "
        f"{retried.failed} failed before)"
    )
    if retried.peer_reset:
        click.echo(
            f"{target} is available again, its failing days forgotten "
            "(an open circuit lets the next delivery through as a probe)"
        )


@click.command("peers")
@click.option("--failing", is_flag=True, help="Only the failing and unavailable ones.")
@click.option("--limit", default=100, show_default=True, help="At most this many peers.")
@click.pass_context
def peers_command(ctx: click.Context, failing: bool, limit: int) -> None:
    """Show the servers deliveries go to and their health: available, failing since when
    (on how many distinct days), or unavailable (failing on 7 days: nothing is sent until
    it is heard from, or `copub deliveries retry --host` it); its circuit breaker, last
    success and last error. The unavailable come first."""

    async def work(session: AsyncSession) -> list[PeerState]:
        return await peer_health.list_peers(session, limit=limit, only_failing=failing)

    rows = in_transaction(ctx, work)
    if not rows:
        click.echo("no failing peers" if failing else "no peers yet")
        return
    now = utcnow()
    width = max(len(row.host) for row in rows)
    click.echo(f"{'host':{width}}  {'state':28}  {'days':>4}  {'circuit':22}  last success")
    for row in rows:
        click.echo(
            f"{row.host:{width}}  {_peer_state(row):28}  {row.failure_days:>4}  "
            f"{_circuit(row, now):22}  {_when(row.last_success_at)}"
        )
        if row.last_error and row.status is not PeerStatus.AVAILABLE:
            error = " ".join(row.last_error.split())
            click.echo(f"{'':{width}}  last error {_when(row.last_failure_at)}: {error[:200]}")


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "-"


def _peer_state(peer: PeerState) -> str:
    if peer.unavailable_since is not None:
        return f"unavailable since {_when(peer.unavailable_since)}"
    if peer.failing_since is not None:
        return f"failing since {_when(peer.failing_since)}"
    return "available"


def _circuit(peer: PeerState, now: datetime) -> str:
    until = peer.circuit.open_until
    if until is None:
        return "closed" if not peer.circuit.failures else f"closed ({peer.circuit.failures} failed)"
    return f"open until {_when(until)}" if until > now else "half-open (probe next)"


COMMANDS = (worker, deliveries, peers_command)
