"""``copub value add|list|remove``: indicators of the value a community creates, per cycle
(value-creation stories themselves are published with ``copub publish SLUG story --cycle``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from actors.cli.publish import editor, run
from actors.cli.support import community_of, in_transaction
from actors.publishing import indicators as publishing
from actors.store import values as store
from actors.store.db import AsyncSession
from actors.values import CYCLE_NAMES, CYCLES, Indicator, number_text


@click.group("value")
def value() -> None:
    """Indicators of value creation, per cycle: they show in the community's value matrix."""


@value.command("add")
@click.argument("slug")
@click.option("--cycle", type=click.Choice(CYCLES), required=True)
@click.option("--text", required=True, help='A short fact: "12 wards adopted the double check".')
@click.option("--number", type=float, default=None, help="The number it counts, if any.")
@click.option("--date", "on", default=None, help="The date it holds for (YYYY-MM-DD; today).")
@click.pass_context
def value_add(
    ctx: click.Context, slug: str, cycle: str, text: str, number: float | None, on: str | None
) -> None:
    """Record an indicator of one cycle."""
    try:
        day = date.fromisoformat(on) if on else datetime.now(UTC).date()
    except ValueError as exc:
        raise click.ClickException(f"--date: {on!r} is not a date (YYYY-MM-DD)") from exc
    indicator = Indicator(cycle, text, day, number)

    async def work(session: AsyncSession) -> int:
        community = await community_of(session, slug)
        row = await publishing.add_indicator(session, community, indicator, by=editor())
        return row.id

    click.echo(f"indicator {run(ctx, work)} recorded for {slug}: {CYCLE_NAMES[cycle]}")


@value.command("list")
@click.argument("slug")
@click.pass_context
def value_list(ctx: click.Context, slug: str) -> None:
    """The community's indicators, the latest first."""

    async def work(session: AsyncSession) -> list[str]:
        community = await community_of(session, slug)
        rows = await store.indicators(session, community.id, limit=1000)
        return [
            f"{r.id}\t{r.cycle}\t{r.on_date.isoformat()}\t{number_text(r.number)}\t{r.text}"
            for r in rows
        ]

    for line in in_transaction(ctx, work):
        click.echo(line)


@value.command("remove")
@click.argument("slug")
@click.argument("indicator_id", type=int)
@click.pass_context
def value_remove(ctx: click.Context, slug: str, indicator_id: int) -> None:
    """Remove an indicator (its id from ``copub value list``)."""

    async def work(session: AsyncSession) -> None:
        community = await community_of(session, slug)
        try:
            await publishing.remove_indicator(session, community, indicator_id)
        except publishing.NoIndicator as exc:
            raise click.ClickException(str(exc)) from exc

    in_transaction(ctx, work)
    click.echo(f"removed indicator {indicator_id}")


COMMANDS: tuple[click.Command, ...] = (value,)
