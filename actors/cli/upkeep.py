"""``copub purge``, ``copub backup`` and ``copub doctor``: an operator's upkeep."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from actors import doctor as checks
from actors import retention
from actors.cli.support import new_event_loop, settings_of
from actors.settings import Settings
from actors.store.backup import BackupError, backup_sqlite, pg_dump_command
from actors.store.db import create_engine, is_sqlite, sessionmaker
from actors.store.schema import require_current
from federation.clock import utcnow

T = TypeVar("T")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would go; delete nothing.")
@click.pass_context
def purge(ctx: click.Context, dry_run: bool) -> None:
    """Delete finished work older than [retention] allows: deliveries done or failed,
    processed inbox items, the Discourse adapter's finished jobs, old network cache
    entries; shows how many rows of each table go (would go, with --dry-run)."""
    settings = settings_of(ctx)
    counts = _run(_purge(settings, dry_run))
    width = max(len(name) for name in counts)
    for name, n in counts.items():
        click.echo(f"{name:<{width}}  {n:>9}")
    kept = settings.retention
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {sum(counts.values())} rows (finished more than {kept.done_days:g} days "
        f"ago; failed: {kept.failed_days:g} days)"
    )


async def _purge(settings: Settings, dry_run: bool) -> dict[str, int]:
    engine = create_engine(settings.database.url)
    try:
        await require_current(engine)
        sessions = sessionmaker(engine)
        tables = retention.purgers()
        if dry_run:
            return await retention.count_old(sessions, settings.retention, utcnow(), tables)
        return await retention.purge(sessions, settings.retention, utcnow(), tables)
    finally:
        await engine.dispose()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, path: Path) -> None:
    """Copy the SQLite database to PATH (a new file) while copub runs, with SQLite's
    online backup API. On PostgreSQL: shows the pg_dump command to run instead."""
    url = settings_of(ctx).database.url
    if not is_sqlite(url):
        click.echo(pg_dump_command(url, path))
        raise click.ClickException(
            "copub backup copies SQLite databases; this one is PostgreSQL: run the pg_dump "
            "command above (it takes the password from PGPASSWORD or ~/.pgpass; pg_restore "
            "restores the file)"
        )
    try:
        size = backup_sqlite(url, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up the database to {path} ({size} bytes)")


@click.command("doctor")
@click.option(
    "--timeout",
    default=5.0,
    show_default=True,
    help="Seconds to wait for the database and for base_url.",
)
@click.pass_context
def doctor(ctx: click.Context, timeout: float) -> None:
    """Check this installation: the config, the database and its schema, the keys, whether
    base_url answers with the actor over the network, the clock. One line per check; exit
    status 1 when any has a problem."""
    settings = settings_of(ctx)
    found = _run(checks.run_checks(settings, seconds=timeout))
    for check in found:
        mark = {True: "OK", False: "PROBLEM", None: "SKIPPED"}[check.ok]
        click.echo(f"{mark:<8} {check.name}: {check.detail}")
    if any(check.ok is False for check in found):
        ctx.exit(1)


def _run(work: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(work)


COMMANDS = (purge, backup, doctor)
