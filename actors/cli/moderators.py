"""``copub moderators add|remove|list``: the coordinators of a community.

Coordinators are the moderators of the Group: listed in its ``moderators`` collection
(Lemmy reads it), allowed to post to a moderated community and to delete members' posts,
and shown first in the core of the community page."""

from __future__ import annotations

import click

from actors import moderators as coordinators
from actors.cli.support import community_of, in_transaction, urls_of
from actors.moderation.modlog import OPERATOR
from actors.store import queries
from actors.store.db import AsyncSession


def _actor_url(value: str) -> str:
    try:
        return coordinators.actor_url(value)
    except coordinators.InvalidActorUrl as exc:
        raise click.BadParameter(str(exc), param_hint="ACTOR_URL") from None


@click.group("moderators")
def moderators() -> None:
    """Coordinators (moderators) of a community: add, remove, list."""


@moderators.command("add")
@click.argument("slug")
@click.argument("actor_url")
@click.pass_context
def moderators_add(ctx: click.Context, slug: str, actor_url: str) -> None:
    """Make ACTOR_URL a coordinator of the community."""
    actor = _actor_url(actor_url)
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> bool:
        community = await community_of(session, slug)
        return await coordinators.add_moderator(session, urls, community, actor, by=OPERATOR)

    if in_transaction(ctx, work):
        click.echo(f"{actor} is now a coordinator of {slug}")
    else:
        click.echo(f"{actor} already coordinates {slug}; nothing changed")


@moderators.command("remove")
@click.argument("slug")
@click.argument("actor_url")
@click.pass_context
def moderators_remove(ctx: click.Context, slug: str, actor_url: str) -> None:
    """Remove ACTOR_URL from the coordinators of the community."""
    actor = _actor_url(actor_url)
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> bool:
        community = await community_of(session, slug)
        return await coordinators.remove_moderator(session, urls, community, actor, by=OPERATOR)

    if not in_transaction(ctx, work):
        raise click.ClickException(f"{actor} is not a coordinator of {slug}")
    click.echo(f"{actor} no longer coordinates {slug}")


@moderators.command("list")
@click.argument("slug")
@click.pass_context
def moderators_list(ctx: click.Context, slug: str) -> None:
    """The coordinators of the community, one actor URL a line."""

    async def work(session: AsyncSession) -> list[str]:
        community = await community_of(session, slug)
        return await queries.list_moderators(session, community.id)

    found = in_transaction(ctx, work)
    for actor in found:
        click.echo(actor)
    if not found:
        click.echo(f"{slug} has no coordinators yet; add one with: copub moderators add {slug} URL")


COMMANDS = (moderators,)
