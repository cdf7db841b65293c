"""The ``copub`` command. Every subcommand finds the same config as ``make run``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any, TypeVar

import click
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from actors import (
    admin,
    cli_content,
    cli_delivery,
    cli_edit,
    cli_links,
    cli_members,
    cli_social,
    cli_tokens,
)
from actors.cli_support import PluginGroup, new_event_loop, run_db, settings_of
from actors.community import community_to_group
from actors.settings import ConfigError, Settings, load_settings
from actors.store import queries
from actors.store.db import create_engine, migrate, sessionmaker
from actors.urls import Urls
from actors.web.app import create_app

T = TypeVar("T")


@click.group(cls=PluginGroup)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $COPUB_CONFIG, ./config.toml, ./config.example.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """copub: a federated home for Communities of Practice."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = load_settings(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("migrate")
@click.pass_context
def migrate_cmd(ctx: click.Context) -> None:
    """Apply database migrations."""
    settings = settings_of(ctx)

    async def nothing(_session: AsyncSession) -> None:
        return None

    run_db(settings, nothing)
    click.echo(f"database up to date: {_redacted(settings.database.url)}")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@main.command("serve")
@click.option("--host", default=None, help="Listen address (default: server.host).")
@click.option("--port", default=None, type=int, help="Listen port (default: server.port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Migrate, seed the configured communities and serve."""
    settings = settings_of(ctx)
    urls = Urls(settings.server.base_url)

    created = asyncio.run(_seed(settings))
    for slug in created:
        click.echo(f"created community {slug}")
    for seed_ in settings.communities:
        click.echo(f"community @{urls.handle(seed_.slug)} at {urls.community(seed_.slug)}")
    listen_host = host or settings.server.host
    listen_port = port or settings.server.port
    click.echo(f"serving {settings.server.base_url} on http://{listen_host}:{listen_port}")
    web.run_app(
        create_app(settings),
        host=listen_host,
        port=listen_port,
        print=None,
        access_log=None,  # copub logs each activity it accepts, with its id and sender
        loop=new_event_loop(),
    )


async def _seed(settings: Settings) -> list[str]:
    engine = create_engine(settings.database.url)
    try:
        await migrate(engine)
        created = await admin.seed_communities(sessionmaker(engine), settings.communities)
        return [c.slug for c in created]
    finally:
        await engine.dispose()


@main.group()
def community() -> None:
    """Create and inspect communities."""


@community.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--summary", default="", help="The community's domain statement.")
@click.option("--closed", is_flag=True, help="Approve followers by hand.")
@click.pass_context
def community_create(ctx: click.Context, slug: str, name: str, summary: str, closed: bool) -> None:
    """Create a community (an ActivityPub Group with its own key pair)."""
    settings = settings_of(ctx)
    urls = Urls(settings.server.base_url)

    async def work(session: AsyncSession) -> None:
        await admin.create_community(session, slug=slug, name=name, summary=summary, closed=closed)

    try:
        run_db(settings, work)
    except queries.AlreadyExists as exc:
        raise click.ClickException(f"community {slug!r} already exists; nothing changed") from exc
    except admin.InvalidCommunity as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created @{urls.handle(slug)} at {urls.community(slug)}")


@community.command("list")
@click.pass_context
def community_list(ctx: click.Context) -> None:
    """List communities."""
    settings = settings_of(ctx)
    urls = Urls(settings.server.base_url)

    async def work(session: AsyncSession) -> list[Any]:
        return await queries.list_communities(session)

    for c in run_db(settings, work):
        flag = " (closed)" if c.closed else ""
        click.echo(f"{c.slug}\t@{urls.handle(c.slug)}\t{c.name}{flag}")


@community.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the actor document.")
@click.pass_context
def community_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show one community."""
    settings = settings_of(ctx)
    urls = Urls(settings.server.base_url)

    async def work(session: AsyncSession) -> Any:
        return await queries.get_community(session, slug)

    c = run_db(settings, work)
    if c is None:
        raise click.ClickException(f"no community named {slug!r}")
    if as_json:
        click.echo(json.dumps(community_to_group(c, urls), indent=2))
        return
    click.echo(f"name:      {c.name}")
    click.echo(f"handle:    @{urls.handle(c.slug)}")
    click.echo(f"actor:     {urls.community(c.slug)}")
    click.echo(f"closed:    {'yes' if c.closed else 'no'}")
    click.echo(f"posting:   {c.posting_policy}")
    click.echo(f"created:   {c.created_at:%Y-%m-%d %H:%M} UTC")
    if c.summary:
        click.echo(f"domain:    {c.summary}")


for _command in (
    *cli_content.COMMANDS,
    *cli_edit.COMMANDS,
    *cli_tokens.COMMANDS,
    *cli_social.COMMANDS,
    *cli_delivery.COMMANDS,
    *cli_members.COMMANDS,
    *cli_links.COMMANDS,
):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
