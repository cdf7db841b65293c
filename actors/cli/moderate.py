"""``copub remove|restore|lock|unlock|ban|unban``: a coordinator's decisions about posts
and people in a community, federated as Lemmy's moderators' are and written to the
moderation log (as the operator)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click

from actors.cli.support import community_of, in_transaction, urls_of
from actors.community import Community
from actors.moderation import bans, removals
from actors.moderation.modlog import OPERATOR
from actors.store.db import AsyncSession
from actors.urls import Urls

Decision = Callable[[AsyncSession, Urls, Community], Awaitable[bool]]

REASON = click.option("--reason", default="", help="Why (shown in the moderation log).")


def _decide(ctx: click.Context, slug: str, decision: Decision) -> bool:
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> bool:
        return await decision(session, urls, await community_of(session, slug))

    return in_transaction(ctx, work)


def _report(changed: bool, done: str, unchanged: str) -> None:
    click.echo(done if changed else f"{unchanged}; nothing changed")


@click.command("remove")
@click.argument("slug")
@click.argument("url")
@REASON
@click.pass_context
def remove(ctx: click.Context, slug: str, url: str, reason: str) -> None:
    """Remove the post URL from the community (followers are told; restore undoes it)."""

    async def decision(session: AsyncSession, urls: Urls, community: Community) -> bool:
        return await removals.remove_post(session, urls, community, url, by=OPERATOR, reason=reason)

    _report(_decide(ctx, slug, decision), f"removed {url}", f"{url} is not shown")


@click.command("restore")
@click.argument("slug")
@click.argument("url")
@click.pass_context
def restore(ctx: click.Context, slug: str, url: str) -> None:
    """Show a removed post again."""

    async def decision(session: AsyncSession, urls: Urls, community: Community) -> bool:
        return await removals.restore_post(session, urls, community, url, by=OPERATOR)

    _report(_decide(ctx, slug, decision), f"restored {url}", f"{url} was not removed")


@click.command("lock")
@click.argument("slug")
@click.argument("url")
@REASON
@click.pass_context
def lock(ctx: click.Context, slug: str, url: str, reason: str) -> None:
    """Lock the thread of URL: replies to it are no longer relayed."""

    async def decision(session: AsyncSession, urls: Urls, community: Community) -> bool:
        return await removals.lock_thread(session, urls, community, url, by=OPERATOR, reason=reason)

    _report(_decide(ctx, slug, decision), f"locked {url}", f"{url} is locked already")


@click.command("unlock")
@click.argument("slug")
@click.argument("url")
@click.pass_context
def unlock(ctx: click.Context, slug: str, url: str) -> None:
    """Unlock the thread of URL."""

    async def decision(session: AsyncSession, urls: Urls, community: Community) -> bool:
        return await removals.unlock_thread(session, urls, community, url, by=OPERATOR)

    _report(_decide(ctx, slug, decision), f"unlocked {url}", f"{url} is not locked")


@click.command("ban")
@click.argument("slug")
@click.argument("actor_url")
@REASON
@click.option("--remove-posts", is_flag=True, help="Also remove their posts in the community.")
@click.pass_context
def ban(ctx: click.Context, slug: str, actor_url: str, reason: str, remove_posts: bool) -> None:
    """Ban ACTOR_URL from the community: no longer a follower, their posts not relayed."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> bans.Banned:
        community = await community_of(session, slug)
        return await bans.ban(
            session,
            urls,
            community,
            actor_url,
            by=OPERATOR,
            reason=reason,
            remove_posts=remove_posts,
        )

    banned = in_transaction(ctx, work)
    _report(banned.added, f"banned {banned.actor}", f"{banned.actor} is banned already")
    if remove_posts:
        click.echo(f"removed {len(banned.removed)} of their posts")


@click.command("unban")
@click.argument("slug")
@click.argument("actor_url")
@click.pass_context
def unban(ctx: click.Context, slug: str, actor_url: str) -> None:
    """Lift the ban of ACTOR_URL."""

    async def decision(session: AsyncSession, urls: Urls, community: Community) -> bool:
        return await bans.unban(session, urls, community, actor_url, by=OPERATOR)

    _report(_decide(ctx, slug, decision), f"unbanned {actor_url}", f"{actor_url} is not banned")


COMMANDS = (remove, restore, lock, unlock, ban, unban)
