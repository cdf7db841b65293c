"""``copub publish|edit|delete|participants``: stories, practices and events from the shell."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from actors import publishing
from actors.cli.support import community_of, in_transaction, settings_of, urls_of
from actors.content import InvalidContent, ItemKind, StoryDraft
from actors.events import JOIN_MODES, EventDraft, Place, event_time
from actors.practices import STATUSES, PracticeDraft
from actors.store.db import AsyncSession
from actors.values import CYCLES, ValueClaim

T = TypeVar("T")

# InvalidContent names the AS2 field; the coordinator typed an option
OPTIONS = {
    "name": "--title",
    "content": "--content",
    "summary": "--summary",
    "tag": "--tag",
    "creativeWorkStatus": "--status",
    "startTime": "--start",
    "endTime": "--end",
    "timezone": "--timezone",
    "location": "--location-name/--street/--locality/--postal-code/--country/--online-url",
    "maximumAttendeeCapacity": "--capacity",
    "joinMode": "--join-mode",
    "rrule": "--rrule",
    "valueCycle": "--cycle",
    "valueChanged": "--changed",
    "valueFor": "--for",
    "valueAbout": "--about",
    "cycle": "--cycle",
    "text": "--text",
    "number": "--number",
}
PLACE_OPTIONS = ("location_name", "street", "locality", "postal_code", "country")


def text_of(content: str | None, content_file: str | None) -> str | None:
    if content_file == "-":
        return sys.stdin.read()
    if content_file:
        return Path(content_file).read_text(encoding="utf-8")
    return content


def editor() -> str:
    """Who edits from the shell, as a practice's history shows it."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (OSError, KeyError):  # pragma: no cover - no user name in this environment
        return "coordinator (command line)"


def run(ctx: click.Context, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one transaction; a wrong field names the option to change."""
    try:
        return in_transaction(ctx, work)
    except InvalidContent as exc:
        option = OPTIONS.get(exc.field, exc.field)
        raise click.ClickException(f"{option}: {exc.message}") from exc


def content_options(required: bool) -> Callable[[Any], Any]:
    def decorate(fn: Any) -> Any:
        fn = click.option(
            "--content-file", default=None, help="Markdown from a file ('-': stdin)."
        )(fn)
        fn = click.option("--content", default=None, help="Markdown text.")(fn)
        return click.option("--title", required=required, default=None, help="The title.")(fn)

    return decorate


def event_options(fn: Any) -> Any:
    for option in reversed(
        (
            click.option("--start", default=None, help='Local start time: "2026-12-01T18:00".'),
            click.option("--end", default=None, help="Local end time (same form)."),
            click.option("--timezone", default=None, help="IANA zone, e.g. Europe/Paris."),
            click.option("--location-name", default=None, help="The place's name."),
            click.option("--street", default=None),
            click.option("--locality", default=None, help="Town or city."),
            click.option("--postal-code", default=None),
            click.option("--country", default=None),
            click.option("--online-url", default=None, help="Link to join online."),
            click.option("--capacity", type=int, default=None, help="Most participants."),
            click.option("--join-mode", type=click.Choice(JOIN_MODES), default=None),
            click.option("--rrule", default=None, help='Repeat: "FREQ=MONTHLY;BYDAY=1TU".'),
        )
    ):
        fn = option(fn)
    return fn


@click.group("publish")
@click.argument("slug")
def publish(slug: str) -> None:
    """Publish a story, practice or event: sent as Create to every follower."""


def _slug(ctx: click.Context) -> str:
    assert ctx.parent is not None
    return str(ctx.parent.params["slug"])


def value_claim(
    cycle: str | None, changed: str | None, for_whom: str | None, about: tuple[str, ...]
) -> ValueClaim | None:
    """The value-creation claim the options make (None without --cycle)."""
    if cycle is None:
        if changed or for_whom or about:
            raise click.ClickException("--changed, --for and --about tell a value: add --cycle")
        return None
    return ValueClaim(cycle, changed or "", for_whom or "", about)


@publish.command(ItemKind.STORY)
@content_options(required=True)
@click.option(
    "--cycle",
    type=click.Choice(CYCLES),
    default=None,
    help="Tell it as a value-creation story of this cycle.",
)
@click.option("--changed", default=None, help="Value story: what changed.")
@click.option("--for", "for_whom", default=None, help="Value story: for whom.")
@click.option(
    "--about",
    multiple=True,
    help="Value story: a practice or event it is about (URL or id; repeat).",
)
@click.pass_context
def publish_story(
    ctx: click.Context, title: str, content: str | None, content_file: str | None,
    cycle: str | None, changed: str | None, for_whom: str | None, about: tuple[str, ...],
) -> None:  # fmt: skip
    """A story: what happened (a Note with its full text), perhaps a value-creation story."""
    draft = StoryDraft(title=title, markdown=text_of(content, content_file) or "")
    claim = value_claim(cycle, changed, for_whom, about)
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, _slug(ctx))
        return (await publishing.publish_story(session, urls, community, draft, claim)).ap_id

    click.echo(f"published {run(ctx, work)}")


@publish.command(ItemKind.PRACTICE)
@content_options(required=True)
@click.option("--summary", default="", help="The gist, shown on Mastodon under the title.")
@click.option("--tag", "tags", multiple=True, help="A hashtag (repeat for more).")
@click.option("--status", type=click.Choice(STATUSES), default="emerging")
@click.pass_context
def publish_practice(
    ctx: click.Context, title: str, content: str | None, content_file: str | None, summary: str,
    tags: tuple[str, ...], status: str,
) -> None:  # fmt: skip
    """A practice: what works (an Article, with a summary, tags and a status)."""
    text = text_of(content, content_file) or ""
    draft = PracticeDraft(title=title, summary=summary, markdown=text, tags=tags, status=status)
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, _slug(ctx))
        row = await publishing.publish_practice(session, urls, community, draft, editor=editor())
        return row.ap_id

    click.echo(f"published {run(ctx, work)}")


def _place(values: dict[str, Any], old: Place | None) -> Place | None:
    given = {k: values[k] for k in PLACE_OPTIONS if values.get(k) is not None}
    if not given:
        return old
    base = old or Place()
    return replace(
        base,
        name=given.get("location_name", base.name),
        street=given.get("street", base.street),
        locality=given.get("locality", base.locality),
        postal_code=given.get("postal_code", base.postal_code),
        country=given.get("country", base.country),
    )


def event_change(values: dict[str, Any]) -> Callable[[EventDraft], EventDraft]:
    """The changes the options make (None: keep; "" clears --end, --online-url, --rrule)."""

    def change(draft: EventDraft) -> EventDraft:
        tz = values.get("timezone") or draft.timezone
        new = replace(draft, timezone=tz, start=draft.start)
        if values.get("start"):
            new = replace(new, start=event_time(values["start"], tz, "startTime"))
        if values.get("end") is not None:
            end = values["end"]
            new = replace(new, end=event_time(end, tz, "endTime") if end else None)
        for option, attr in (("title", "title"), ("join_mode", "join_mode")):
            if values.get(option) is not None:
                new = replace(new, **{attr: values[option]})
        if values.get("markdown") is not None:
            new = replace(new, markdown=values["markdown"])
        if values.get("online_url") is not None:
            new = replace(new, online_url=values["online_url"] or None)
        if values.get("rrule") is not None:
            new = replace(new, rrule=values["rrule"] or None)
        if values.get("capacity") is not None:
            new = replace(new, capacity=values["capacity"] or None)
        return replace(new, place=_place(values, new.place))

    return change


@publish.command(ItemKind.EVENT)
@content_options(required=True)
@event_options
@click.pass_context
def publish_event(ctx: click.Context, /, **values: Any) -> None:
    """An event: a meeting or workshop (an Event with time, place and participants)."""
    if not values.get("start"):
        raise click.ClickException("an event needs --start")
    values["markdown"] = text_of(values.pop("content"), values.pop("content_file")) or ""
    values.setdefault("timezone", None)
    timezone = values["timezone"] or settings_of(ctx).content.default_timezone
    urls = urls_of(ctx)

    async def work(session: AsyncSession) -> str:
        community = await community_of(session, _slug(ctx))
        start = event_time(values["start"], timezone, "startTime")
        blank = EventDraft(title="", markdown="", start=start, timezone=timezone)
        draft = event_change({**values, "timezone": timezone})(blank)
        return (await publishing.publish_event(session, urls, community, draft)).ap_id

    click.echo(f"published {run(ctx, work)}")


COMMANDS: tuple[click.Command, ...] = (publish,)
