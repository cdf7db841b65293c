"""``copub migrate|serve``: the database schema and the server."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from datetime import UTC, datetime, timedelta

import click
from aiohttp import web

from actors import allocator, founding, heap, signing
from actors.accounts import audit, invites
from actors.cli.fleet import CHANNEL_OPTION, Fleet, MemberChannel
from actors.cli.support import new_event_loop, run_db, settings_of
from actors.settings import Settings
from actors.store.db import (
    AsyncSession,
    create_engine,
    is_sqlite,
    migrate,
    redacted_url,
    sessionmaker,
)
from actors.store.singletons import START_UP, one_at_a_time
from actors.urls import Urls
from actors.web import metrics
from actors.web.app import create_app

SQLITE_ONE_PROCESS = (
    "--workers {n}: SQLite takes one process per database. copub orders the writes to a "
    "SQLite file with a lock inside its process; other processes would not see it, and two "
    "of them could claim the same inbox item or delivery (the same activity applied or "
    "sent twice). Serve with one process (--workers 1, the default), or move the database "
    'to PostgreSQL ([database] url = "postgresql+asyncpg://...") to run several.'
)


@click.command("migrate")
@click.pass_context
def migrate_cmd(ctx: click.Context) -> None:
    """Apply database migrations."""
    settings = settings_of(ctx)

    async def nothing(_session: AsyncSession) -> None:
        return None

    run_db(settings, nothing, migrating=True)
    click.echo(f"database up to date: {redacted_url(settings.database.url)}")


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: server.host).")
@click.option("--port", default=None, type=int, help="Listen port (default: server.port).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web processes serving the port (more than one: PostgreSQL only).",
)
@click.option(CHANNEL_OPTION, "channel", type=int, default=None, hidden=True)
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, workers: int, channel: int | None
) -> None:
    """Migrate, seed the configured communities and serve.

    With --workers N (PostgreSQL), N processes serve the one port; this one watches them,
    starts one again that dies, and stops them all on SIGTERM or SIGINT."""
    settings = settings_of(ctx)
    allocator.limit_arenas(settings.server.malloc_arenas)  # before any thread starts
    allocator.fix_mmap_threshold(settings.server.malloc_mmap_threshold_kib)
    listen_host = host or settings.server.host
    listen_port = port or settings.server.port
    if channel is not None:  # a member of a fleet: the parent seeded and speaks
        _serve(settings, listen_host, listen_port, MemberChannel(channel))
        return
    if workers > 1 and is_sqlite(settings.database.url):
        raise click.ClickException(SQLITE_ONE_PROCESS.format(n=workers))
    urls = Urls(settings.server.base_url)

    created, setup_link = asyncio.run(_seed(settings))
    for slug in created:
        click.echo(f"created community {slug}")
    for seed_ in settings.communities:
        click.echo(f"community @{urls.handle(seed_.slug)} at {urls.community(seed_.slug)}")
    click.echo(f"console at {urls.console()}")
    if setup_link is not None:
        click.echo("No admin has set up the console yet. Open this link to choose the admin's")
        click.echo(f"password (it works once; a restart prints a new one): {setup_link}")
    click.echo(f"serving {settings.server.base_url} on http://{listen_host}:{listen_port}")
    with metrics.fleet_directory(settings, workers) as directory:
        if workers == 1:
            _serve(settings, listen_host, listen_port)
            return
        ctx.exit(_run_fleet(ctx, listen_host, listen_port, workers, directory))


def _serve(settings: Settings, host: str, port: int, channel: MemberChannel | None = None) -> None:
    """Serve in this process (``channel``: as a member of a fleet, on a shared port)."""
    app = create_app(settings)
    app.on_startup.append(heap.freeze_on_startup)  # last: what startup built stays (heap.py)
    loop = new_event_loop()
    if channel is not None:
        channel.install(loop)
    web.run_app(
        app,
        host=host,
        port=port,
        print=None if channel is None else channel.serving,  # called once the port listens
        access_log=None,  # copub logs each activity it accepts, with its id and sender
        loop=loop,
        reuse_port=channel is not None,
        handle_signals=channel is None,  # a member's own handlers: stop once (fleet.py)
    )


def _run_fleet(ctx: click.Context, host: str, port: int, size: int, directory: str | None) -> int:
    """Run ``size`` members of this ``copub serve`` (actors/cli/fleet.py); the exit status."""
    root = ctx.find_root().params
    command = [sys.executable, "-m", "actors.cli"]
    if root.get("config_path"):
        command += ["--config", str(root["config_path"])]
    if root.get("verbose"):
        command.append("--verbose")
    command += ["serve", "--host", host, "--port", str(port)]
    env = dict(os.environ)
    if directory is not None:
        env[metrics.MULTIPROC_ENV] = directory
    fleet = Fleet(
        command,
        size,
        env=env,
        on_exit=None if directory is None else functools.partial(metrics.process_gone, directory),
        say=click.echo,
    )
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(fleet.run())


async def _seed(settings: Settings) -> tuple[list[str], str | None]:
    """Migrate, seed the communities; (the slugs created, the first admin's setup link
    while no admin has set up the console)."""
    engine = create_engine(settings.database.url)
    try:
        async with one_at_a_time(engine, START_UP):  # a fleet's processes starting at once
            await migrate(engine)
            sessions = sessionmaker(engine)
            created = await founding.seed_communities(sessions, settings.communities)
            await signing.server_signer(sessions, Urls(settings.server.base_url))  # made once
            async with sessions.begin() as session:
                now = datetime.now(UTC)
                valid = timedelta(days=settings.console.invite_valid_days)
                link = await invites.first_admin(session, valid=valid, now=now)
                if link is not None:
                    await audit.record(session, "admin.setup_link", who=None, now=now)
        setup = Urls(settings.server.base_url).console_setup(link.token) if link else None
        return [c.slug for c in created], setup
    finally:
        await engine.dispose()


COMMANDS: tuple[click.Command, ...] = (migrate_cmd, serve)
