"""``copub community create|edit|list|show``: the communities this server hosts."""

from __future__ import annotations

import json
from typing import Any

import click

from actors import founding
from actors.cli.support import community_of, in_transaction, urls_of
from actors.community import POSTING_POLICIES, community_to_group
from actors.members import VISIBILITIES, Visibility, check_switch
from actors.moderation import settings as moderation
from actors.store import queries
from actors.store.db import AsyncSession
from federation.clock import utcnow


@click.group("community")
def community() -> None:
    """Create and inspect communities."""


@community.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--summary", default="", help="The community's domain statement.")
@click.option("--closed", is_flag=True, help="Approve followers by hand.")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default=None,
    help="public, closed (approval) or members (approval; items for members only).",
)
@click.pass_context
def community_create(
    ctx: click.Context, slug: str, name: str, summary: str, closed: bool, visibility: str | None
) -> None:
    """Create a community (an ActivityPub Group with its own key pair)."""
    urls = urls_of(ctx)
    members_only = visibility == Visibility.MEMBERS
    closed = closed or (visibility is not None and Visibility(visibility).closed)

    async def work(session: AsyncSession) -> None:
        await founding.create_community(
            session,
            slug=slug,
            name=name,
            summary=summary,
            closed=closed,
            members_only=members_only,
        )

    try:
        in_transaction(ctx, work)
    except queries.AlreadyExists as exc:
        raise click.ClickException(f"community {slug!r} already exists; nothing changed") from exc
    click.echo(f"created @{urls.handle(slug)} at {urls.community(slug)}")


@community.command("edit")
@click.argument("slug")
@click.option("--name", default=None, help="New display name.")
@click.option("--summary", default=None, help="New domain statement ('' for none).")
@click.option("--closed/--open", default=None, help="Approve followers by hand, or not.")
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default=None,
    help="public, closed (approval) or members (approval; items for members only).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="A profile field (repeatable; the given ones replace all).",
)
@click.option("--no-fields", is_flag=True, help="Remove every profile field.")
@click.option(
    "--posting-policy",
    type=click.Choice(POSTING_POLICIES),
    default=None,
    help="Whose posts are relayed without a hold (the others wait in `copub held`).",
)
@click.option(
    "--hold-first-posts/--no-hold-first-posts",
    default=None,
    help="Hold a poster's first post in the community for a coordinator, or not.",
)
@click.option(
    "--posts-per-hour",
    type=click.IntRange(0, moderation.POSTS_PER_HOUR_MAX),
    default=None,
    help="Hold a poster's posts past this many an hour (0: no limit).",
)
@click.option(
    "--modlog-names/--no-modlog-names",
    default=None,
    help="The public moderation log names the coordinator, or only their role.",
)
@click.pass_context
def community_edit(
    ctx: click.Context,
    slug: str,
    name: str | None,
    summary: str | None,
    closed: bool | None,
    visibility: str | None,
    fields: tuple[str, ...],
    no_fields: bool,
    posting_policy: str | None,
    hold_first_posts: bool | None,
    posts_per_hour: int | None,
    modlog_names: bool | None,
) -> None:
    """Change a community's name, summary, profile fields, closed state or visibility (its
    followers get the new profile: an Update of the Group), and its moderation settings.
    A members-only community stays members-only unless ``--visibility`` says otherwise
    (what it published until then stays members-only)."""
    urls = urls_of(ctx)
    pairs = tuple(_field(given) for given in fields)
    notices: list[str] = []

    async def work(session: AsyncSession) -> tuple[bool, bool]:
        current = await community_of(session, slug)
        wanted_visibility = None if visibility is None else Visibility(visibility)
        if wanted_visibility is not None:
            notices.append(check_switch(Visibility.of(current), wanted_visibility))
        updated = await founding.update_community(
            session,
            urls,
            current,
            name=current.name if name is None else name,
            summary=current.summary if summary is None else summary,
            closed=current.closed if closed is None else closed,
            profile_fields=() if no_fields else pairs or current.profile_fields,
            now=utcnow(),
            visibility=wanted_visibility,
        )
        wanted = moderation.with_changes(
            moderation.ModerationSettings.of(updated),
            posting_policy=posting_policy,
            hold_first_posts=hold_first_posts,
            posts_per_hour=posts_per_hour,
            modlog_names=modlog_names,
        )
        updated = await moderation.update_moderation_settings(
            session, urls, updated, wanted, now=utcnow()
        )
        sent = community_to_group(updated, urls) != community_to_group(current, urls)
        return updated != current, sent

    changed, sent = in_transaction(ctx, work)
    for notice in filter(None, notices):
        click.echo(notice)
    if sent:
        click.echo(f"updated @{urls.handle(slug)}; its followers get the new profile")
    elif changed:
        click.echo(f"updated @{urls.handle(slug)}")
    else:
        click.echo(f"@{urls.handle(slug)}: nothing changed")


def _field(given: str) -> tuple[str, str]:
    name, sep, value = given.partition("=")
    if not sep:
        raise click.BadParameter(f"{given!r} is not NAME=VALUE", param_hint="--field")
    return name, value


@community.command("list")
@click.pass_context
def community_list(ctx: click.Context) -> None:
    """List communities."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> list[Any]:
        return await queries.list_communities(session)

    for c in in_transaction(ctx, work):
        flag = " (members only)" if c.members_only else " (closed)" if c.closed else ""
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
    click.echo(f"visible:   {Visibility.of(c)}")
    click.echo(f"posting:   {c.posting_policy}")
    first = "a first post is held" if c.hold_first_posts else "as the policy says"
    click.echo(f"first:     {first}")
    limit = f"{c.posts_per_hour} posts an hour a poster" if c.posts_per_hour else "none"
    click.echo(f"limit:     {limit}")
    click.echo(f"modlog:    {'names coordinators' if c.modlog_names else 'roles only'}")
    click.echo(f"created:   {c.created_at:%Y-%m-%d %H:%M} UTC")
    if c.summary:
        click.echo(f"domain:    {c.summary}")


COMMANDS: tuple[click.Command, ...] = (community,)
