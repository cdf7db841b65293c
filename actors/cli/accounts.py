"""``copub admin create|reset`` and ``copub coordinator invite``: console accounts and the
one-time links that open the console to them (each link works once, for
``[console] invite_valid_days``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from actors.accounts import audit, invites
from actors.accounts.model import normal_username, username_problem
from actors.cli.support import community_of, in_transaction, settings_of, urls_of
from actors.settings import Settings
from actors.store import accounts
from actors.store.db import AsyncSession
from actors.store.queries import AlreadyExists


def _valid(settings: Settings) -> timedelta:
    return timedelta(days=settings.console.invite_valid_days)


def _until(link: invites.Link) -> str:
    return link.expires_at.strftime("%Y-%m-%d %H:%M UTC")


@click.group("admin")
def admin() -> None:
    """Server admins of the console: create one, or give one a new setup link."""


@admin.command("create")
@click.argument("username")
@click.pass_context
def admin_create(ctx: click.Context, username: str) -> None:
    """Create the admin USERNAME and print a one-time link to set their password."""
    name = normal_username(username)
    problem = username_problem(name)
    if problem:
        raise click.BadParameter(problem, param_hint="USERNAME")
    settings = settings_of(ctx)

    async def work(session: AsyncSession) -> invites.Link:
        now = datetime.now(UTC)
        link = await invites.create_admin(session, name, valid=_valid(settings), now=now)
        await audit.record(session, "admin.create", who=None, now=now, detail=name)
        return link

    try:
        link = in_transaction(ctx, work)
    except AlreadyExists:
        raise click.ClickException(
            f"{name!r} exists already; for a new setup link: copub admin reset {name}"
        ) from None
    click.echo(f"admin {name} created. Open this link to set the password (once, until "
               f"{_until(link)}):")  # fmt: skip
    click.echo(urls_of(ctx).console_setup(link.token))


@admin.command("reset")
@click.argument("username")
@click.pass_context
def admin_reset(ctx: click.Context, username: str) -> None:
    """Print a new one-time link for USERNAME (admin or coordinator) to set a new
    password: for a forgotten password, or an account waiting after failed sign-ins."""
    name = normal_username(username)
    settings = settings_of(ctx)

    async def work(session: AsyncSession) -> invites.Link | None:
        row = await accounts.account_named(session, name)
        if row is None:
            return None
        now = datetime.now(UTC)
        link = await invites.setup_link(session, row, valid=_valid(settings), now=now)
        await audit.record(session, "account.reset", who=None, now=now, detail=name)
        return link

    link = in_transaction(ctx, work)
    if link is None:
        raise click.ClickException(f"no account named {name!r}")
    click.echo(f"Give {name} this link to set a new password (once, until {_until(link)}):")
    click.echo(urls_of(ctx).console_setup(link.token))


@click.group("coordinator")
def coordinator() -> None:
    """Coordinators of the console: invite one to a community."""


@coordinator.command("invite")
@click.argument("slug")
@click.pass_context
def coordinator_invite(ctx: click.Context, slug: str) -> None:
    """Print a one-time link inviting someone to coordinate the community SLUG."""
    settings = settings_of(ctx)

    async def work(session: AsyncSession) -> invites.Link:
        community = await community_of(session, slug)
        now = datetime.now(UTC)
        link = await invites.coordinator_invite(
            session, community.id, valid=_valid(settings), now=now
        )
        await audit.record(session, "invite.create", who=None, now=now, community=community)
        return link

    link = in_transaction(ctx, work)
    click.echo(f"Give this link to the new coordinator of {slug} (once, until {_until(link)}):")
    click.echo(urls_of(ctx).console_invite(link.token))


COMMANDS = (admin, coordinator)
