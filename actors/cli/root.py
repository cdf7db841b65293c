"""The ``copub`` group: its options, and where every command group joins it.

Every subcommand finds the same config as ``make run``. Adapters add their own groups
through the ``copub.commands`` entry points (see :class:`actors.cli.support.PluginGroup`)."""

from __future__ import annotations

import logging

import click

from actors.cli import (
    accounts,
    communities,
    deliveries,
    edit,
    filters,
    followers,
    held,
    links,
    moderate,
    moderators,
    publish,
    reports,
    server,
    tokens,
    upkeep,
)
from actors.cli.support import PluginGroup
from actors.logformat import use_format
from actors.settings import load_settings


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
    ctx.obj = load_settings(config_path)  # a ConfigError is the group's to report
    use_format(ctx.obj.log.format)  # [log] format: text as above, or JSON lines


for _group in (
    server,
    communities,
    publish,
    edit,
    tokens,
    followers,
    deliveries,
    moderators,
    moderate,
    held,
    filters,
    reports,
    links,
    accounts,
    upkeep,
):
    for _command in _group.COMMANDS:
        main.add_command(_command)
