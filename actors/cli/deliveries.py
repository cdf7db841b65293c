"""``copub worker`` and ``copub deliveries``: running and inspecting outgoing deliveries."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime

import click

from actors.cli.support import in_transaction, new_event_loop, settings_of
from actors.delivery import build_worker, delivery_client, worker_lock
from actors.settings import Settings
from actors.store import jobs
from actors.store.db import AsyncSession, create_engine, is_sqlite, migrate, sessionmaker
from actors.store.states import PENDING_JOBS, JobState
from federation.clock import utcnow

log = logging.getLogger(__name__)


@click.command("worker")
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Deliver queued activities until stopped (Ctrl-C or SIGTERM).

    On PostgreSQL run as many as you like, next to `copub serve` (whose own worker
    [delivery] in_process_worker turns off). On SQLite only one worker may run: set
    in_process_worker = false for the server if you run this."""
    settings = settings_of(ctx)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_work(settings))


async def _work(settings: Settings) -> None:
    with worker_lock(settings.database.url):
        engine = create_engine(settings.database.url)
        client = delivery_client(settings)
        try:
            await migrate(engine)
            await client.start()
            loop_worker = build_worker(settings, sessionmaker(engine), client)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, loop_worker.stop)
            kind = "SQLite" if is_sqlite(settings.database.url) else "PostgreSQL"
            log.info("delivery worker starting on %s", kind)
            await loop_worker.run()
            log.info("delivery worker stopped: %s", loop_worker.counts)
        finally:
            await client.close()
            await engine.dispose()


@click.command("deliveries")
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
    """Show the delivery queue: counts per state, then the jobs themselves."""
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


COMMANDS = (worker, deliveries)
