"""``copub reports [SLUG]``, ``copub reports resolve ID`` and ``copub report SLUG URL``:
reports other servers sent (a ``Flag``), and reports a coordinator sends.

A report received waits in its community's queue, or in the server's when it concerns no
community (``copub reports`` without a SLUG). A report sent goes from the server's
moderation actor, so the coordinator is not named (actors/moderation/reports.py)."""

from __future__ import annotations

import click

from actors.cli.links import with_remote
from actors.cli.support import community_of, in_transaction, urls_of
from actors.moderation import reports
from actors.moderation.modlog import OPERATOR
from actors.remote import Remote
from actors.store.db import AsyncSession
from actors.store.models_moderation import ReportDirection

REPORT_ID = click.IntRange(1, 2**31 - 1)  # an int4 id
EXCERPT = 100  # characters of a reason in the list


class ReportsGroup(click.Group):
    """``copub reports [SLUG] [--all]`` is ``copub reports list [SLUG] [--all]``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in (*self.commands, "--help", "-h"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("reports", cls=ReportsGroup)
def reports_group() -> None:
    """Reports from other servers: list (copub reports [SLUG]), resolve."""


def _line(report: reports.Report) -> str:
    when = report.created_at.strftime("%Y-%m-%d %H:%M")
    reason = report.content if len(report.content) <= EXCERPT else report.content[:EXCERPT] + "…"
    if report.direction == ReportDirection.OUT:
        who = f"sent by {report.reporter}"
    else:
        who = f"from {report.reporter}"
    state = f"{report.state}" + (f" by {report.resolved_by}" if report.resolved_by else "")
    about = " ".join(report.objects)
    return f"#{report.id}\t{when}\t{state}\t{who}\tabout {about}\t{reason or '(no reason given)'}"


@reports_group.command("list")
@click.argument("slug", required=False)
@click.option("--all", "everything", is_flag=True,
              help="Resolved reports too, and those the community sent.")  # fmt: skip
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="List at most this many, the oldest first.")  # fmt: skip
@click.pass_context
def reports_list(ctx: click.Context, slug: str | None, everything: bool, limit: int) -> None:
    """The open reports of the community SLUG, or without SLUG the server's (those that
    concern no community), the oldest first."""

    async def work(session: AsyncSession) -> tuple[list[reports.Report], int]:
        community_id = (await community_of(session, slug)).id if slug else None
        listing = reports.all_reports if everything else reports.open_reports
        found = await listing(session, community_id, limit)
        return found, await reports.count_open(session, community_id)

    found, waiting = in_transaction(ctx, work)
    queue = slug or "the server"
    for report in found:
        click.echo(_line(report))
    if not found:
        click.echo(f"no {'' if everything else 'open '}reports in the queue of {queue}")
        return
    click.echo(f"{waiting} open in the queue of {queue}; copub reports resolve ID")


@reports_group.command("resolve")
@click.argument("report_id", metavar="ID", type=REPORT_ID)
@click.pass_context
def reports_resolve(ctx: click.Context, report_id: int) -> None:
    """Mark report ID resolved (it leaves the queue)."""

    async def work(session: AsyncSession) -> reports.Report:
        return await reports.resolve(session, report_id, OPERATOR)

    found = in_transaction(ctx, work)
    click.echo(f"report #{found.id} resolved")


@click.command("report")
@click.argument("slug")
@click.argument("url")
@click.option("--reason", required=True, help="Why: sent to the other server as the report's text.")
@click.pass_context
def report(ctx: click.Context, slug: str, url: str, reason: str) -> None:
    """Report a remote account or post (its URL) to its server, for the community SLUG.
    The report comes from this server's moderation actor; no coordinator is named."""
    urls = urls_of(ctx)
    reports.clean_reason_out(reason)  # refuse before any fetch

    async def work(remote: Remote) -> tuple[reports.Report, reports.Target]:
        async with remote.sessions() as session:
            await community_of(session, slug)
            try:
                target = await reports.known_target(session, urls, url)
            except reports.NoSuchReport:
                target = None
        if target is None:
            target = await reports.fetch_target(remote, urls, url)
        async with remote.sessions.begin() as session:
            community = await community_of(session, slug)
            sent = await reports.send_report(
                session, urls, community, url, reason, OPERATOR, target=target
            )
        return sent, target

    sent, target = with_remote(ctx, work)
    click.echo(f"reported {' '.join(target.reported)} to {target.inbox} (report #{sent.id})")


COMMANDS = [reports_group, report]
