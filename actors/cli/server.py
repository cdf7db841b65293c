"""``copub migrate|serve``: the database schema and the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import click
from aiohttp import web

from actors import allocator, founding, heap
from actors.accounts import audit, invites
from actors.cli.support import new_event_loop, run_db, settings_of
from actors.settings import Settings
from actors.store.db import AsyncSession, create_engine, migrate, redacted_url, sessionmaker
from actors.urls import Urls
from actors.web.app import create_app


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
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Migrate, seed the configured communities and serve."""
    settings = settings_of(ctx)
    allocator.limit_arenas(settings.server.malloc_arenas)  # before any thread starts
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
    listen_host = host or settings.server.host
    listen_port = port or settings.server.port
    click.echo(f"serving {settings.server.base_url} on http://{listen_host}:{listen_port}")
    app = create_app(settings)
    app.on_startup.append(heap.freeze_on_startup)  # last: what startup built stays (heap.py)
    web.run_app(
        app,
        host=listen_host,
        port=listen_port,
        print=None,
        access_log=None,  # copub logs each activity it accepts, with its id and sender
        loop=new_event_loop(),
    )


async def _seed(settings: Settings) -> tuple[list[str], str | None]:
    """Migrate, seed the communities; (the slugs created, the first admin's setup link
    while no admin has set up the console)."""
    engine = create_engine(settings.database.url)
    try:
        await migrate(engine)
        sessions = sessionmaker(engine)
        created = await founding.seed_communities(sessions, settings.communities)
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
