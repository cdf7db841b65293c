"""``copub link|unlink|links|link-policy``: a community's links with sister communities."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from actors import links as linking
from actors import signing
from actors.cli.support import community_of, in_transaction, settings_of
from actors.community import Community
from actors.remote import Remote, federation_client
from actors.store import links as store
from actors.store.db import AsyncSession, create_engine, sessionmaker
from actors.store.models_links import LinkRow
from actors.store.schema import require_current
from actors.urls import Urls
from federation.resolve import resolve_handle

T = TypeVar("T")


def with_remote(ctx: click.Context, work: Callable[[Remote], Awaitable[T]]) -> T:
    """Run ``work`` with signed fetching (for the server's communities) on a current
    database (a refusal, ours or a peer's, is the ``copub`` group's to report)."""
    settings = settings_of(ctx)

    async def main() -> T:
        engine = create_engine(settings.database.url)
        try:
            await require_current(engine)
            sessions = sessionmaker(engine)
            urls = Urls(settings.server.base_url)
            async with federation_client(settings) as client:
                signer = await signing.server_signer(sessions, urls)
                return await work(Remote(client, sessions, urls, signer))
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _find(remote: Remote, slug: str, target: str) -> tuple[Community, LinkRow]:
    """The community ``slug`` and its link to ``target``; a handle we do not know yet is
    asked of its server."""
    async with remote.sessions() as session:
        community = await community_of(session, slug)
        row = await linking.find_link(session, community, target)
    if row is None and not linking.is_url(target):
        actor_id = await resolve_handle(remote.client, target)
        async with remote.sessions() as session:
            row = await store.get_link(session, community.id, actor_id)
    if row is None:
        raise click.ClickException(f"{community.slug} has no link to {target}")
    return community, row


POLICY = click.Choice(linking.POLICIES)


@click.command("link")
@click.argument("slug")
@click.argument("target", metavar="HANDLE_OR_URL")
@click.option(
    "--policy",
    type=POLICY,
    default=None,
    help="announce: share what comes over the link with this community's followers. "
    f"Default: the link's policy as it is; {linking.DEFAULT_POLICY} for a new link.",
)
@click.pass_context
def link(ctx: click.Context, slug: str, target: str, policy: str | None) -> None:
    """Link a community with a sister community elsewhere (@name@host or its URL): the
    community follows it, and what it publishes shows on this community's page."""

    async def work(remote: Remote) -> tuple[str, linking.LinkResult]:
        async with remote.sessions() as session:
            community = await community_of(session, slug)
        group = await linking.resolve_group(remote, community, target)
        async with remote.sessions.begin() as session:
            result = await linking.link(session, remote.urls, community, group, policy)
        return group.handle or group.ap_id, result

    name, result = with_remote(ctx, work)
    policy = result.link.policy
    if result.sent_follow:
        click.echo(f"asked to link {slug} with {name}: pending until it accepts; policy {policy}")
    else:
        click.echo(f"{slug} is linked with {name}; policy {policy}")


@click.command("unlink")
@click.argument("slug")
@click.argument("target", metavar="HANDLE_OR_URL")
@click.pass_context
def unlink(ctx: click.Context, slug: str, target: str) -> None:
    """Undo a link: the community unfollows the other (Undo(Follow))."""

    async def work(remote: Remote) -> str:
        community, row = await _find(remote, slug, target)
        async with remote.sessions.begin() as session:
            fresh = await store.get_link(session, community.id, row.remote_actor_id)
            if fresh is not None:
                await linking.unlink(session, remote.urls, community, fresh)
        return row.remote_actor_id

    click.echo(f"unlinked {slug} from {with_remote(ctx, work)}")


@click.command("link-policy")
@click.argument("slug")
@click.argument("target", metavar="HANDLE_OR_URL")
@click.argument("policy", type=POLICY)
@click.pass_context
def link_policy(ctx: click.Context, slug: str, target: str, policy: str) -> None:
    """Whether what comes over a link is announced to the community's followers."""

    async def work(remote: Remote) -> str:
        community, row = await _find(remote, slug, target)
        async with remote.sessions.begin() as session:
            fresh = await store.get_link(session, community.id, row.remote_actor_id)
            if fresh is not None:
                linking.set_policy(fresh, policy)
        return row.remote_actor_id

    click.echo(f"link {slug} -> {with_remote(ctx, work)}: policy {policy}")


@click.command("links")
@click.argument("slug")
@click.pass_context
def links_list(ctx: click.Context, slug: str) -> None:
    """A community's links: the ones it made (out) and Groups following it (in)."""

    async def work(session: AsyncSession) -> list[str]:
        community = await community_of(session, slug)
        outgoing = await store.list_links(session, community.id)
        incoming = await store.incoming_links(session, community.id)
        actors = await store.remote_actors(session, [r.remote_actor_id for r in outgoing])
        lines = []
        for row in outgoing:
            known = actors.get(row.remote_actor_id)
            handle = f"@{known.handle}" if known and known.handle else "-"
            lines.append(f"out\t{row.state}\t{row.policy}\t{handle}\t{row.remote_actor_id}")
        for follower, actor in incoming:
            handle = f"@{actor.handle}" if actor.handle else "-"
            lines.append(f"in\t{follower.state}\t-\t{handle}\t{actor.ap_id}")
        return lines

    lines = in_transaction(ctx, work)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(f"{slug} has no links")


COMMANDS = (link, unlink, link_policy, links_list)
