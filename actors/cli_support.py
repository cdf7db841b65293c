"""Shared by the ``copub`` subcommands: the loaded settings and one-transaction runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]
from sqlalchemy.ext.asyncio import AsyncSession

from actors.settings import Settings
from actors.store.db import create_engine, migrate, sessionmaker
from actors.urls import Urls

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (about twice aiohttp's throughput) where installed, else asyncio's."""
    if uvloop is None:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # pragma: no cover - set by the root group
        raise click.ClickException("settings were not loaded")
    return settings


def urls_of(ctx: click.Context) -> Urls:
    return Urls(settings_of(ctx).server.base_url)


def run_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a migrated database."""

    async def main() -> T:
        engine = create_engine(settings.database.url)
        try:
            await migrate(engine)
            async with sessionmaker(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def in_transaction(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_db(settings_of(ctx), work)
