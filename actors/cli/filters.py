"""``copub filters list|add|remove``: words, phrases and link domains that hold a post
for the coordinators, in one community or on the whole server (``--server``)."""

from __future__ import annotations

import click

from actors.cli.support import community_of, in_transaction
from actors.moderation import filters
from actors.store.db import AsyncSession

USAGE = "give SLUG KIND VALUE, or --server KIND VALUE (KIND: word or domain)"


def _scope(server: bool, args: tuple[str, ...]) -> tuple[str | None, filters.Filter]:
    """(the community's slug, or None for the server; the filter) from the arguments."""
    if server and len(args) == 2:
        return None, filters.parse_filter(*args)
    if not server and len(args) == 3:
        return args[0], filters.parse_filter(args[1], args[2])
    raise click.UsageError(USAGE)


async def _community_id(session: AsyncSession, slug: str | None) -> int | None:
    return None if slug is None else (await community_of(session, slug)).id


def _where(slug: str | None) -> str:
    return "the whole server" if slug is None else slug


@click.group("filters")
def filters_group() -> None:
    """Words and link domains that hold a post: list, add, remove."""


@filters_group.command("list")
@click.argument("slug", required=False)
@click.pass_context
def filters_list(ctx: click.Context, slug: str | None) -> None:
    """The filters of SLUG and of the server (the server's alone without SLUG)."""

    async def work(session: AsyncSession) -> list[filters.Filter]:
        return await filters.filters_for(session, await _community_id(session, slug))

    found = in_transaction(ctx, work)
    for each in found:
        click.echo(f"{each.kind.value}\t{each.value}\t{'server' if each.server_wide else slug}")
    if not found:
        click.echo(f"no filters hold posts in {_where(slug)}")


@filters_group.command("add")
@click.argument("args", nargs=-1, metavar="SLUG|--server KIND VALUE")
@click.option("--server", is_flag=True, help="A filter of every community on this server.")
@click.pass_context
def filters_add(ctx: click.Context, args: tuple[str, ...], server: bool) -> None:
    """Hold posts with a word or phrase (KIND word) or a link to a domain (KIND domain)."""
    slug, wanted = _scope(server, args)

    async def work(session: AsyncSession) -> bool:
        return await filters.add_filter(session, await _community_id(session, slug), wanted)

    if in_transaction(ctx, work):
        click.echo(f"posts with {wanted} are held in {_where(slug)}")
    else:
        click.echo(f"{wanted} holds posts in {_where(slug)} already; nothing changed")


@filters_group.command("remove")
@click.argument("args", nargs=-1, metavar="SLUG|--server KIND VALUE")
@click.option("--server", is_flag=True, help="A filter of the whole server.")
@click.pass_context
def filters_remove(ctx: click.Context, args: tuple[str, ...], server: bool) -> None:
    """Remove a filter: posts with it are no longer held for it."""
    slug, old = _scope(server, args)

    async def work(session: AsyncSession) -> bool:
        return await filters.remove_filter(session, await _community_id(session, slug), old)

    if not in_transaction(ctx, work):
        raise click.ClickException(f"there is no filter {old} in {_where(slug)}")
    click.echo(f"removed {old} from {_where(slug)}")


COMMANDS: tuple[click.Command, ...] = (filters_group,)
