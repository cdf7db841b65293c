"""``copub followers|block``: who receives a community's activities."""

from __future__ import annotations

import click

from actors import followers as deciding
from actors.cli.support import community_of, in_transaction, urls_of
from actors.store import social
from actors.store.db import AsyncSession
from actors.store.states import FollowerState


@click.group("followers")
def followers() -> None:
    """List followers; approve or reject requests to a closed community; remove one."""


@followers.command("list")
@click.argument("slug")
@click.pass_context
def followers_list(ctx: click.Context, slug: str) -> None:
    async def work(session: AsyncSession) -> list[str]:
        community = await community_of(session, slug)
        return await social.list_followers(
            session, community.id, state=FollowerState.ACCEPTED, limit=100_000
        )

    for actor in in_transaction(ctx, work):
        click.echo(actor)


@followers.command("pending")
@click.argument("slug")
@click.pass_context
def followers_pending(ctx: click.Context, slug: str) -> None:
    """Follow requests waiting for approval."""

    async def work(session: AsyncSession) -> list[str]:
        community = await community_of(session, slug)
        return await social.list_followers(
            session, community.id, state=FollowerState.PENDING, limit=100_000
        )

    pending = in_transaction(ctx, work)
    for actor in pending:
        click.echo(actor)
    if not pending:
        click.echo("no pending follow requests")


def decide(ctx: click.Context, slug: str, actor: str, approve: bool) -> None:
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, slug)
        return await deciding.decide(session, urls, community, actor, approve=approve)

    note = in_transaction(ctx, work)
    click.echo(f"{'approved' if approve else 'rejected'} {actor}")
    if note:
        click.echo(f"note: {note}")


@followers.command("approve")
@click.argument("slug")
@click.argument("actor")
@click.pass_context
def followers_approve(ctx: click.Context, slug: str, actor: str) -> None:
    """Accept a pending follow request (sends Accept)."""
    decide(ctx, slug, actor, True)


@followers.command("reject")
@click.argument("slug")
@click.argument("actor")
@click.pass_context
def followers_reject(ctx: click.Context, slug: str, actor: str) -> None:
    """Refuse a pending follow request (sends Reject)."""
    decide(ctx, slug, actor, False)


@followers.command("remove")
@click.argument("slug")
@click.argument("actor")
@click.pass_context
def followers_remove(ctx: click.Context, slug: str, actor: str) -> None:
    """Remove an approved follower (sends Reject of their Follow; in a members-only
    community they and their server lose access at once). They may ask to follow again;
    to keep them out, block them."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> None:
        community = await community_of(session, slug)
        await deciding.remove(session, urls, community, actor)

    in_transaction(ctx, work)
    click.echo(f"removed {actor} (sent Reject of their Follow)")


@click.command("block")
@click.argument("target")
@click.option("--community", "slug", default=None, help="Only for this community.")
@click.option("--reason", default="", help="Why (kept for the coordinators, sent to no one).")
@click.option("--undo", is_flag=True, help="Lift the block.")
@click.pass_context
def block(ctx: click.Context, target: str, slug: str | None, reason: str, undo: bool) -> None:
    """Block an actor (its URL) or a domain (example.org), server-wide or per community.

    Blocked followers are removed; blocked actors get Reject and no deliveries."""
    try:
        blocked = deciding.block_target(target)
    except deciding.InvalidBlock as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None

    async def work(session: AsyncSession) -> list[str]:
        community_id = (await community_of(session, slug)).id if slug else None
        if undo:
            await deciding.unblock(session, community_id, blocked)
            return []
        return (await deciding.block(session, community_id, blocked, reason)).removed

    removed = in_transaction(ctx, work)
    click.echo(f"{'unblocked' if undo else 'blocked'} {blocked.kind} {blocked.value}")
    for actor in removed:
        click.echo(f"removed follower {actor}")


COMMANDS = (followers, block)
