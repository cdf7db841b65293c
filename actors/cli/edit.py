"""``copub edit|delete|participants``: change, withdraw and look after what was published."""

from __future__ import annotations

from dataclasses import replace
from types import EllipsisType
from typing import Any

import click

from actors import publishing
from actors.cli.publish import (
    PLACE_OPTIONS,
    content_options,
    editor,
    event_change,
    event_options,
    run,
    text_of,
)
from actors.cli.support import community_of, urls_of
from actors.content import ItemKind
from actors.practices import STATUSES
from actors.publishing.common import local_object
from actors.store import practice as store
from actors.store.db import AsyncSession
from actors.values import CYCLES, ValueClaim

PRACTICE_ONLY = ("summary", "tags", "no_tags", "status", "note")
STORY_ONLY = ("cycle", "changed", "for_whom", "about", "no_value")
EVENT_ONLY = ("start", "end", "timezone", *PLACE_OPTIONS, "online_url", "capacity",
              "join_mode", "rrule")  # fmt: skip


def _refuse_foreign(kind: str, values: dict[str, Any]) -> None:
    """An option that does not apply to the item's kind is a mistake, not a no-op."""
    foreign = {
        ItemKind.STORY: (*PRACTICE_ONLY, *EVENT_ONLY),
        ItemKind.PRACTICE: (*EVENT_ONLY, *STORY_ONLY),
        ItemKind.EVENT: (*PRACTICE_ONLY, *STORY_ONLY),
    }[ItemKind(kind)]
    for name in foreign:
        if values.get(name) not in (None, False, ()):
            option = "--" + name.replace("_", "-")
            article = "an" if kind[0] in "aeiou" else "a"
            raise click.ClickException(f"{option} does not apply to {article} {kind}")


def _claim_change(
    old: ValueClaim | None, values: dict[str, Any]
) -> ValueClaim | EllipsisType | None:
    """The story's new claim: None with --no-value, the old one with what the options
    change, or ``...`` (keep it) when none is given."""
    if values["no_value"]:
        return None
    given = {k: values[k] for k in ("cycle", "changed", "for_whom") if values[k] is not None}
    if not given and not values["about"]:
        return ...
    if old is None and "cycle" not in given:
        raise click.ClickException("--changed, --for and --about tell a value: add --cycle")
    claim = replace(old or ValueClaim(given["cycle"]), **given)
    return replace(claim, about=tuple(values["about"])) if values["about"] else claim


@click.command("edit")
@click.argument("slug")
@click.argument("item")
@content_options(required=False)
@click.option("--summary", default=None, help="Practice: a new summary.")
@click.option("--tag", "tags", multiple=True, help="Practice: the tags (replace the old ones).")
@click.option("--no-tags", is_flag=True, help="Practice: remove every tag.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Practice.")
@click.option("--note", default=None, help="Practice: what changed, for its history.")
@click.option("--cycle", type=click.Choice(CYCLES), default=None, help="Story: its value cycle.")
@click.option("--changed", default=None, help="Value story: what changed.")
@click.option("--for", "for_whom", default=None, help="Value story: for whom.")
@click.option("--about", multiple=True, help="Value story: what it is about (replaces; repeat).")
@click.option("--no-value", is_flag=True, help="Story: no longer a value-creation story.")
@event_options
@click.pass_context
def edit(ctx: click.Context, /, slug: str, item: str, **values: Any) -> None:
    """Edit a published item (its URL or id): sent as Update. A practice's history keeps
    every version with --note; "" clears an event's --end, --online-url or --rrule."""
    values["markdown"] = text_of(values.pop("content"), values.pop("content_file"))
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, slug)
        row = await local_object(session, urls, community, item)
        _refuse_foreign(row.kind, values)
        if row.kind == ItemKind.STORY:
            await publishing.edit_story(
                session, urls, community, item, title=values["title"], markdown=values["markdown"],
                value=_claim_change(publishing.current_claim(row), values),
            )  # fmt: skip
        elif row.kind == ItemKind.PRACTICE:
            tags = () if values["no_tags"] else (values["tags"] or None)
            await publishing.edit_practice(
                session, urls, community, item, editor=editor(), note=values["note"],
                title=values["title"], summary=values["summary"], markdown=values["markdown"],
                tags=tags, status=values["status"],
            )  # fmt: skip
        else:
            await publishing.edit_event(session, urls, community, item, event_change(values))
        return row.ap_id

    try:
        click.echo(f"updated {run(ctx, work)}")
    except publishing.Unchanged:
        click.echo("nothing changed; nothing sent")


@click.command("delete")
@click.argument("slug")
@click.argument("item")
@click.pass_context
def delete(ctx: click.Context, slug: str, item: str) -> None:
    """Delete a published story, practice or event: sent as Delete; its URL answers 410."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, slug)
        return (await publishing.delete_item(session, urls, community, item)).ap_id

    click.echo(f"deleted {run(ctx, work)}")


@click.command("participants")
@click.argument("slug")
@click.argument("item")
@click.pass_context
def participants(ctx: click.Context, slug: str, item: str) -> None:
    """Who takes part in an event (accepted Joins), in the order they joined."""
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> tuple[list[str], int | None]:
        community = await community_of(session, slug)
        row = await local_object(session, urls, community, item, ItemKind.EVENT)
        detail = await store.get_event_detail(session, row.id)
        joined = await store.list_participants(session, row.id, limit=100_000)
        return [p.actor_id for p in joined], detail.capacity if detail else None

    actors, capacity = run(ctx, work)
    for actor in actors:
        click.echo(actor)
    limit = f" of {capacity}" if capacity else ""
    click.echo(f"{len(actors)}{limit} participants")


COMMANDS: tuple[click.Command, ...] = (edit, delete, participants)
