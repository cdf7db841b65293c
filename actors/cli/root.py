"""The ``copub`` group: its options, and the table of where each command is defined.

Every subcommand finds the same config as ``make run``. Adapters add their own groups
through the ``copub.commands`` entry points (see :class:`actors.cli.support.PluginGroup`)."""

from __future__ import annotations

import importlib
import logging

import click

from actors.cli import loading
from actors.cli.support import PluginGroup
from actors.logformat import use_format
from actors.settings import load_settings

# Each command and the module of actors.cli that defines it (in its COMMANDS): a command's
# module, and what it imports, load only when the command runs (or for --help).
COMMAND_MODULES = {
    "migrate": "server",
    "serve": "server",
    "community": "communities",
    "publish": "publish",
    "edit": "edit",
    "delete": "edit",
    "participants": "edit",
    "token": "tokens",
    "followers": "followers",
    "block": "followers",
    "worker": "deliveries",
    "deliveries": "deliveries",
    "peers": "deliveries",
    "moderators": "moderators",
    "remove": "moderate",
    "restore": "moderate",
    "lock": "moderate",
    "unlock": "moderate",
    "ban": "moderate",
    "unban": "moderate",
    "held": "held",
    "filters": "filters",
    "reports": "reports",
    "report": "reports",
    "link": "links",
    "unlink": "links",
    "link-policy": "links",
    "links": "links",
    "admin": "accounts",
    "coordinator": "accounts",
    "purge": "upkeep",
    "backup": "upkeep",
    "doctor": "upkeep",
    "digest": "digests",
    "value": "values",
}
# Commands that run until stopped: their log is their output (INFO); the others log
# warnings and errors only, unless -v
DAEMONS = frozenset({"serve", "worker"})
RAN: dict[str, str | None] = {}  # "command": the command this process runs (actors.cli.run)


class CopubGroup(PluginGroup):
    """The root group, loading each command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            with loading():
                commands = importlib.import_module(f"actors.cli.{module}").COMMANDS
            for command in commands:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=CopubGroup)
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
    RAN["command"] = ctx.invoked_subcommand
    quiet = ctx.invoked_subcommand not in DAEMONS
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = load_settings(config_path)  # a ConfigError is the group's to report
    use_format(ctx.obj.log.format)  # [log] format: text as above, or JSON lines
