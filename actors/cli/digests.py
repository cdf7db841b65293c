"""``copub digest``: the email digests of a community, for operators.

``status`` counts subscribers and digests (never shows an address); ``send-now`` makes
the schedule's pass for one community at once (queues what is due, sends it), with
``--retry`` first making its waiting and failed digests due again."""

from __future__ import annotations

import asyncio

import click

from actors import signing
from actors.cli.support import community_of, in_transaction, new_event_loop, settings_of
from actors.digests.service import PassReport
from actors.settings import Settings
from actors.store import digests
from actors.store.db import AsyncSession, create_engine, sessionmaker
from actors.store.schema import require_current
from actors.store.states import JobState
from actors.urls import Urls
from actors.web.digest_pages import digest_service
from federation.clock import utcnow


@click.group("digest")
def digest() -> None:
    """Email digests: who subscribed, what went, send the due ones now."""


@digest.command("status")
@click.argument("slug")
@click.pass_context
def status(ctx: click.Context, slug: str) -> None:
    """Subscribers of SLUG's digest and its digests by state (addresses are not shown)."""

    async def work(session: AsyncSession) -> tuple[digests.SubscriptionCounts, dict[JobState, int]]:
        community = await community_of(session, slug)
        counts = await digests.subscription_counts(session, community.id)
        return counts, await digests.send_counts(session, community.id)

    subscribers, sends = in_transaction(ctx, work)
    click.echo(
        f"subscribers: weekly {subscribers.weekly}, monthly {subscribers.monthly}, "
        f"waiting to confirm {subscribers.unconfirmed}"
    )
    click.echo("digests: " + ", ".join(f"{state} {sends[state]}" for state in JobState))
    if not settings_of(ctx).email.enabled:
        click.echo("[email] has no host: nothing is sent and the subscribe form is hidden")


@digest.command("send-now")
@click.argument("slug")
@click.option("--retry", is_flag=True, help="First make waiting and failed digests due again.")
@click.pass_context
def send_now(ctx: click.Context, slug: str, retry: bool) -> None:
    """Queue SLUG's due digests (the last closed week's or month's) and send them now."""
    settings = settings_of(ctx)
    if not settings.email.enabled:
        raise click.ClickException("[email] has no host: set it up in the config first")
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        report = runner.run(_send_now(settings, slug, retry))
    click.echo(str(report))
    for error in report.errors[:5]:
        click.echo(f"  {error}")


async def _send_now(settings: Settings, slug: str, retry: bool) -> PassReport:
    engine = create_engine(settings.database.url)
    try:
        await require_current(engine)
        sessions = sessionmaker(engine)
        urls = Urls(settings.server.base_url)
        async with sessions.begin() as session:
            community = await community_of(session, slug)
            if retry:
                await digests.retry_now(session, community.id, utcnow())
        signer = await signing.server_signer(sessions, urls)
        service = digest_service(settings, sessions, urls, signer.private_key_pem)
        return await service.run_pass(community_id=community.id)
    finally:
        await engine.dispose()


COMMANDS = [digest]
