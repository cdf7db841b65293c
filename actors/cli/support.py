"""Shared by the ``copub`` subcommands: the loaded settings, one-transaction runs, the
community a command names, and the plugin hook that adds an adapter's commands."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

import click

from actors.community import Community
from actors.errors import CopubError
from actors.settings import Settings
from actors.store import queries
from actors.store.db import AsyncSession, create_engine, migrate, sessionmaker
from actors.store.schema import require_current_in
from actors.urls import Urls
from federation.errors import FederationError

T = TypeVar("T")


# How long a thread that wants the GIL waits before the holder must let go (Python's
# default: 5 ms). A server's event loop shares the GIL with its signing thread
# (federation/client.py): at 5 ms, a delivery burst stopped the loop in 5 ms slices and
# bench_hostile's Follow p99 was 30 ms against 14 quiet; at 0.5 ms, 17 against 10.
SWITCH_SECONDS = 0.0005


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (about twice aiohttp's throughput) where installed, else asyncio's,
    for a server or worker process: the GIL is handed over within ``SWITCH_SECONDS``.
    Imported here, when a server or worker starts: a command run by ``asyncio.run`` never
    loads it."""
    sys.setswitchinterval(SWITCH_SECONDS)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


PLUGIN_COMMANDS = "copub.commands"


class PluginGroup(click.Group):
    """The root group: offers the commands plugins declare as entry points too
    (``[project.entry-points."copub.commands"]``, loaded by name when asked for), and
    turns the errors of any command, plugins' included, into a message and exit status 1:
    ``actors.errors.CopubError`` (its message), ``FederationError`` (its reason)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CopubError as exc:
            raise click.ClickException(exc.message) from exc
        except FederationError as exc:
            raise click.ClickException(exc.reason) from exc

    def _plugins(self) -> dict[str, str]:
        return {ep.name: ep.value for ep in entry_points(group=PLUGIN_COMMANDS)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for ep in entry_points(group=PLUGIN_COMMANDS, name=cmd_name):
            loaded = ep.load()
            if isinstance(loaded, click.Command):
                return loaded
        return None


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # pragma: no cover - set by the root group
        raise click.ClickException("settings were not loaded")
    return settings


def urls_of(ctx: click.Context) -> Urls:
    return Urls(settings_of(ctx).server.base_url)


def run_db(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, migrating: bool = False
) -> T:
    """Run ``work`` in one transaction on a database at this code's schema: migrated first
    when ``migrating`` (``copub migrate``), else only checked (``SchemaNotCurrent`` when it
    is behind: ``actors.store.schema``)."""

    async def main() -> T:
        engine = create_engine(settings.database.url)
        try:
            if migrating:
                await migrate(engine)
            async with sessionmaker(engine).begin() as session:
                if not migrating:
                    await require_current_in(session)  # in the work's transaction
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def in_transaction(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_db(settings_of(ctx), work)


async def community_of(session: AsyncSession, slug: str) -> Community:
    """The community ``slug`` names; a clear error if there is none."""
    community = await queries.get_community(session, slug)
    if community is None:
        raise click.ClickException(f"no community named {slug!r}")
    return community
