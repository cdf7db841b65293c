"""``copub community create|list|show``: the communities this server hosts."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from actors import founding
from actors.cli.support import community_of, in_transaction, urls_of
from actors.community import community_to_group
from actors.store import queries


@click.group("community")
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
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> None:
        await founding.create_community(
            session, slug=slug, name=name, summary=summary, closed=closed
        )

    try:
        in_transaction(ctx, work)
    except queries.AlreadyExists as exc:
        raise click.ClickException(f"community {slug!r} already exists; nothing changed") from exc
    except founding.InvalidCommunity as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created @{urls.handle(slug)} at {urls.community(slug)}")


@community.command("list")
@click.pass_context
def community_list(ctx: click.Context) -> None:
    """List communities."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> list[Any]:
        return await queries.list_communities(session)

    for c in in_transaction(ctx, work):
        flag = " (closed)" if c.closed else ""
        click.echo(f"{c.slug}\t@{urls.handle(c.slug)}\t{c.name}{flag}")


@community.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the actor document.")
@click.pass_context
def community_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show one community."""
    urls = urls_of(ctx)
    c = in_transaction(ctx, lambda session: community_of(session, slug))
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


COMMANDS: tuple[click.Command, ...] = (community,)
