"""``copub token create|list|revoke``: bearer tokens for the authoring API."""

from __future__ import annotations

import click

from actors.cli.support import community_of, in_transaction, urls_of
from actors.store import tokens
from actors.store.db import AsyncSession


@click.group("token")
def token() -> None:
    """Tokens for the authoring API (POST /c/SLUG/outbox), one community each."""


@token.command("create")
@click.argument("slug")
@click.option("--label", default="", help="Who or what uses it (shown in practice histories).")
@click.pass_context
def token_create(ctx: click.Context, slug: str, label: str) -> None:
    """Make a token and print it once: only its hash is kept."""

    async def work(session: AsyncSession) -> tuple[int, str]:
        community = await community_of(session, slug)
        row, secret = await tokens.create_token(session, community.id, label)
        return row.id, secret

    token_id, secret = in_transaction(ctx, work)
    click.echo(secret)
    click.echo(
        f"token {token_id} for {urls_of(ctx).community(slug)}: store it now, it is not shown "
        "again (revoke it with `copub token revoke`)",
        err=True,
    )


@token.command("list")
@click.argument("slug")
@click.pass_context
def token_list(ctx: click.Context, slug: str) -> None:
    """The community's tokens: id, label, created, last used (never the tokens)."""

    async def work(session: AsyncSession) -> list[tuple[int, str, str, str]]:
        community = await community_of(session, slug)
        return [
            (
                t.id,
                t.label or "-",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used",
            )
            for t in await tokens.list_tokens(session, community.id)
        ]

    rows = in_transaction(ctx, work)
    for token_id, label, created, used in rows:
        click.echo(f"{token_id}\t{label}\tcreated {created}\t{used}")
    if not rows:
        click.echo("no tokens")


@token.command("revoke")
@click.argument("slug")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, slug: str, token_id: int) -> None:
    """Revoke a token by its id (see `copub token list`): it stops working at once."""

    async def work(session: AsyncSession) -> bool:
        community = await community_of(session, slug)
        return await tokens.revoke_token(session, community.id, token_id)

    if not in_transaction(ctx, work):
        raise click.ClickException(f"{slug} has no token {token_id}")
    click.echo(f"revoked token {token_id}")


COMMANDS: tuple[click.Command, ...] = (token,)
