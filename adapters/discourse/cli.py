"""``copub discourse check|sync|status|retry SLUG`` (attached to ``copub`` by the entry point
``copub.commands: discourse``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from actors import founding
from actors.cli.support import settings_of
from actors.settings import Settings
from actors.store.db import create_engine, sessionmaker
from actors.store.schema import require_current
from actors.urls import Urls
from adapters.discourse import store
from adapters.discourse.backfill import CategoryWalker, SyncReport
from adapters.discourse.check import check as run_check
from adapters.discourse.client import DiscourseError
from adapters.discourse.config import forum_for, forums_of
from adapters.discourse.runtime import ForumRuntime, make_client
from adapters.discourse.wire import WireError

T = TypeVar("T")


def _runtime_call(ctx: click.Context, slug: str, work: Callable[[ForumRuntime], Awaitable[T]]) -> T:
    settings = settings_of(ctx)
    forum = forum_for(forums_of(settings), slug)
    if forum is None:
        raise click.ClickException(_not_configured(settings, slug))

    async def main() -> T:
        engine = create_engine(settings.database.url)
        client = make_client(forum, settings)
        try:
            await require_current(engine)
            sessions = sessionmaker(engine)
            # the communities the config declares, as `serve` creates them: a first
            # `check` or `sync` may come before the first `serve`
            for created in await founding.seed_communities(sessions, settings.communities):
                click.echo(f"created community {created.slug} (declared in {settings.source})")
            await client.start()
            runtime = ForumRuntime(forum, client, Urls(settings.server.base_url), sessions)
            return await work(runtime)
        finally:
            await client.close()
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (DiscourseError, WireError) as exc:
        raise click.ClickException(f"{exc}\n(run `copub discourse check {slug}`)") from exc


def _not_configured(settings: Settings, slug: str) -> str:
    if "adapters.discourse" not in settings.adapters:
        return (
            f"the Discourse adapter is not enabled in {settings.source}: add "
            'adapters = ["adapters.discourse"] and a [[discourse]] table for ' + repr(slug)
        )
    return f"no [[discourse]] table in {settings.source} has community = {slug!r}"


@click.group()
def discourse() -> None:
    """Connect a community with a Discourse forum category."""


@discourse.command("check")
@click.argument("slug")
@click.pass_context
def check_cmd(ctx: click.Context, slug: str) -> None:
    """Check the forum, the API key, the category and the bot's permissions."""
    base_url = settings_of(ctx).server.base_url
    findings = _runtime_call(ctx, slug, lambda runtime: run_check(runtime, base_url))
    for finding in findings:
        click.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.message}")
    if not all(f.ok for f in findings):
        raise click.exceptions.Exit(1)
    click.echo(f"ready: run `copub discourse sync {slug}` to import the category's topics")


@discourse.command("sync")
@click.argument("slug")
@click.option("--announce", is_flag=True, help="Send imported topics to followers as new.")
@click.option("--full", is_flag=True, help="Fetch every topic, even unchanged ones.")
@click.option("--restart", is_flag=True, help="Start from the first page, not the cursor.")
@click.pass_context
def sync_cmd(ctx: click.Context, slug: str, announce: bool, full: bool, restart: bool) -> None:
    """Import (backfill) the category's topics; run again to resume or to catch up."""

    async def work(runtime: ForumRuntime) -> tuple[SyncReport, ForumRuntime]:
        category = await runtime.api.category()
        label = f"{category.name} ({category.topic_count} topics)"
        with click.progressbar(length=max(category.topic_count, 1), label=label) as bar:
            report = await CategoryWalker(runtime).backfill(
                announce=announce, full=full, restart=restart, progress=bar.update
            )
        return report, runtime

    report, runtime = _runtime_call(ctx, slug, work)
    c = report.counts
    resumed = f" (resumed at page {report.start_page})" if report.start_page else ""
    click.echo(
        f"synced {report.topics_listed} topics{resumed}: {report.topics_fetched} fetched, "
        f"{report.topics_removed} gone; items {c.created} created, {c.updated} updated, "
        f"{c.deleted} deleted, {c.unchanged} unchanged"
    )
    stats = runtime.client.stats
    click.echo(
        f"{stats.requests} requests to {runtime.forum.host}; waited {stats.rate_limited} "
        f"times for its rate limit ({stats.waited_seconds:.1f} s of wall-clock time)"
    )
    if not announce and c.created:
        click.echo("followers were not notified (--announce sends new topics to them)")


@discourse.command("retry")
@click.argument("slug")
@click.pass_context
def retry_cmd(ctx: click.Context, slug: str) -> None:
    """Make the forum work waiting for a retry (and the failed) due now, e.g. after the
    API key was fixed; a running server takes it up within seconds."""

    async def work(runtime: ForumRuntime) -> tuple[int, int]:
        community = await runtime.community()
        async with runtime.sessions.begin() as session:
            return await store.retry_now(session, community.id)

    waiting, failed = _runtime_call(ctx, slug, work)
    click.echo(
        f"{waiting + failed} jobs due now ({waiting} waiting for a retry, {failed} failed); "
        "a running `copub serve` takes them up within seconds"
    )


@discourse.command("status")
@click.argument("slug")
@click.pass_context
def status_cmd(ctx: click.Context, slug: str) -> None:
    """What is mirrored, the backfill cursor, and the queue of forum work."""

    async def work(runtime: ForumRuntime) -> list[str]:
        community = await runtime.community()
        async with runtime.sessions() as session:
            state = await store.forum_state(session, community.id)
            links = await store.count_links(session, community.id)
            jobs = await store.job_counts(session, community.id)
            failed = await store.failed_jobs(session, community.id)
        lines = [
            f"forum:      {runtime.forum.base_url} category {runtime.forum.category}",
            f"mirrored:   {links.get('forum', 0)} forum posts; "
            f"{links.get('fediverse', 0)} fediverse replies posted to the forum",
            f"backfill:   {_when(state.backfill_finished_at, 'finished', 'never finished')}"
            + (f", resumes at page {state.backfill_page}" if state.backfill_page else ""),
            f"last poll:  {_when(state.last_poll_at, 'at', 'never')}",
            "jobs:       " + (", ".join(f"{n} {s}" for s, n in sorted(jobs.items())) or "none"),
        ]
        lines += [f"  {j.state} {j.kind} {j.object_ap_id or ''}: {j.last_error}" for j in failed]
        return lines

    for line in _runtime_call(ctx, slug, work):
        click.echo(line)


def _when(moment: object, prefix: str, never: str) -> str:
    return f"{prefix} {moment:%Y-%m-%d %H:%M} UTC" if moment is not None else never
