"""``copub held SLUG`` and ``copub held approve|reject|reject-all``: the posts a community
holds for its coordinators (its posting policy, a filter or the hourly limit held them).

An approved post is relayed by the server's inbox processor, once; a rejected one never.
The console's Moderation page does the same through the same functions."""

from __future__ import annotations

import click

from actors.cli.support import community_of, in_transaction, urls_of
from actors.html import plain_text
from actors.moderation import holds
from actors.moderation.modlog import OPERATOR
from actors.store import moderation as store
from actors.store.db import AsyncSession
from actors.store.models_moderation import HeldPostRow

EXCERPT = 80  # characters of a post's text in the list
HOLD_ID = click.IntRange(1, 2**31 - 1)  # an int4 id


def excerpt(row: HeldPostRow, limit: int = EXCERPT) -> str:
    """The first words of a held post, as plain text on one line."""
    obj = row.ap_activity.get("object")
    fields = [obj.get(k) for k in ("name", "summary", "content")] if isinstance(obj, dict) else []
    return plain_text(" ".join(f for f in fields if isinstance(f, str)), limit)


class HeldGroup(click.Group):
    """``copub held SLUG`` is ``copub held list SLUG``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("held", cls=HeldGroup)
def held() -> None:
    """Posts held for the coordinators: list (copub held SLUG), approve, reject."""


@held.command("list")
@click.argument("slug")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="List at most this many, the oldest first.")  # fmt: skip
@click.pass_context
def held_list(ctx: click.Context, slug: str, limit: int) -> None:
    """The posts waiting in SLUG's queue, the oldest first: id, author, reason, excerpt."""

    async def work(session: AsyncSession) -> tuple[list[HeldPostRow], int]:
        community = await community_of(session, slug)
        rows = await holds.queue(session, community, limit=limit)
        return rows, await store.count_holds(session, community.id)

    rows, total = in_transaction(ctx, work)
    if not rows:
        click.echo(f"no posts wait in the queue of {slug}")
        return
    for row in rows:
        click.echo(f"{row.id}\t{row.actor_id}\t{row.reason}\t{excerpt(row)}")
    shown = f" (the oldest {len(rows)} listed)" if total > len(rows) else ""
    click.echo(f"{total} held in {slug}{shown}; copub held approve|reject {slug} ID")


@held.command("approve")
@click.argument("slug")
@click.argument("hold_id", metavar="ID", type=HOLD_ID)
@click.pass_context
def held_approve(ctx: click.Context, slug: str, hold_id: int) -> None:
    """Approve held post ID: the server relays it to the followers, once."""

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, slug)
        return (await holds.approve(session, community, hold_id, OPERATOR)).object_ap_id

    post = in_transaction(ctx, work)
    click.echo(f"approved #{hold_id} ({post}): the server relays it to the followers")


@held.command("reject")
@click.argument("slug")
@click.argument("hold_id", metavar="ID", type=HOLD_ID)
@click.option("--reason", default="", help="Why (shown in the public moderation log).")
@click.option("--tell-author", is_flag=True, help="Send the author a Reject (with the reason).")
@click.pass_context
def held_reject(
    ctx: click.Context, slug: str, hold_id: int, reason: str, tell_author: bool
) -> None:
    """Reject held post ID: it is never relayed."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, slug)
        row = await holds.reject(
            session, urls, community, hold_id, OPERATOR, reason=reason, tell_author=tell_author
        )
        return row.object_ap_id

    post = in_transaction(ctx, work)
    told = "; the author is sent a Reject" if tell_author else ""
    click.echo(f"rejected #{hold_id} ({post}){told}")


@held.command("reject-all")
@click.argument("slug")
@click.option("--reason", default="", help="Why (shown in the public moderation log).")
@click.pass_context
def held_reject_all(ctx: click.Context, slug: str, reason: str) -> None:
    """Reject every post waiting in SLUG's queue at once (a spam wave)."""

    async def work(session: AsyncSession) -> int:
        community = await community_of(session, slug)
        return await holds.reject_all(session, community, OPERATOR, reason=reason)

    count = in_transaction(ctx, work)
    click.echo(f"rejected {count} held post{'' if count == 1 else 's'} in {slug}")


COMMANDS: tuple[click.Command, ...] = (held,)
