"""Attack class: recurring events whose expansion never ends.

A follower sent an ``Event`` starting in year 1 with ``rrule: FREQ=DAILY``; each view of
``/c/SLUG/events`` then walked 740,000 days per such event (1.2 s each, the event loop
blocked). Dates outside the sane years (``[limits]``) are refused at intake, and the
expansion of any stored rule starts near the moment asked about and walks a bounded number
of occurrences (``actors.schedule.MAX_STEPS``), so pages cost the same whatever the start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrule, rrulestr
from sqlalchemy import select

from actors import schedule
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow
from actors.web.community_page import SHOWN
from tests.flows import mobilizon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import RemoteServer

EVENTS = 13


class Walk:
    """Counts every occurrence dateutil generates (the work an expansion does)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.steps = 0
        generate = rrule._iter

        def counting(rule: rrule) -> Iterator[datetime]:
            for moment in generate(rule):
                self.steps += 1
                yield moment

        monkeypatch.setattr(rrule, "_iter", counting)


async def _send_event(copub: Copub, remote: RemoteServer, start: str, rule: str) -> str:
    mona = remote.person("mona")
    event = mobilizon.event(mona, start=start, end=start.replace("T18", "T20"), timezone="UTC")
    event["rrule"] = rule
    create = mobilizon.create(mona, event)
    status, answer = await remote.post(mona, copub.inbox("nightshift"), create)
    assert status == 202, answer
    await copub.processed(create["id"])
    assert await copub.inbox_items(create["id"]) == ["done"]
    return str(event["id"])


async def _detail(copub: Copub, object_id: str) -> EventDetailRow | None:
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
        return await session.get(EventDetailRow, row.id) if row is not None else None


@sqlite_only
async def test_event_starting_in_year_one_is_refused_at_intake(
    copub: Copub, remote: RemoteServer, community: str, caplog: pytest.LogCaptureFixture
) -> None:
    await follow(remote, remote.person("mona"), copub, "nightshift")
    # When a follower sends an event that starts in year 1 and repeats every day
    with caplog.at_level(logging.INFO):
        event_id = await _send_event(copub, remote, "0001-01-01T18:00:00+00:00", "FREQ=DAILY")
    # Then it is not stored as an event, and the log says why
    assert await _detail(copub, event_id) is None
    assert any("startTime" in r.getMessage() and event_id in r.getMessage() for r in caplog.records)


@sqlite_only
async def test_events_page_walks_a_bounded_number_of_occurrences(
    copub: Copub, remote: RemoteServer, community: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 13 daily events since 1900 (the earliest year accepted), from a follower
    await follow(remote, remote.person("mona"), copub, "nightshift")
    for _ in range(EVENTS):
        event_id = await _send_event(copub, remote, "1900-01-01T18:00:00+00:00", "FREQ=DAILY")
        assert await _detail(copub, event_id) is not None
    # When the events page and the community page are viewed
    walk = Walk(monkeypatch)
    pages = {copub.urls.community_events("nightshift"): EVENTS, copub.actor("nightshift"): SHOWN}
    for url, shown in pages.items():
        status, page = await copub.get(url, accept="text/html")
        assert status == 200
        # Then each event shows its next meeting (today or tomorrow, 18:00-20:00)
        assert page.count("18:00\u201320:00") == shown
    # And each expansion walked a few occurrences, not 46,000 days since 1900
    assert 0 < walk.steps <= 2 * EVENTS * 10


def test_expansion_of_a_rule_that_cannot_be_moved_forward_is_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A COUNT rule is counted from its first day, so it cannot start near now: a stored one
    # (never checked, say) of 100,000 days since 1900 is walked at most MAX_STEPS
    walk = Walk(monkeypatch)
    start = datetime(1900, 1, 1, 18, tzinfo=UTC)
    now = datetime.now(UTC)
    found = schedule.occurrences(start, None, "UTC", "FREQ=DAILY;COUNT=100000", after=now)
    assert walk.steps <= schedule.MAX_STEPS
    assert found == []  # not found within the cap: shown as not recurring any more


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        ("FREQ=DAILY", datetime(1, 1, 1, 18, tzinfo=UTC)),
        ("FREQ=DAILY;INTERVAL=3", datetime(1900, 1, 1, 18, tzinfo=UTC)),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", datetime(1900, 1, 1, 18, tzinfo=UTC)),
        ("FREQ=WEEKLY;INTERVAL=2", datetime(1900, 1, 3, 18, tzinfo=UTC)),
        ("FREQ=MONTHLY", datetime(1900, 1, 31, 18, tzinfo=UTC)),
        ("FREQ=MONTHLY;BYDAY=1TU", datetime(1900, 1, 2, 18, tzinfo=UTC)),
        ("FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR", datetime(1900, 1, 26, 18, tzinfo=UTC)),
        ("FREQ=YEARLY", datetime(1904, 2, 29, 18, tzinfo=UTC)),
        ("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", datetime(1900, 3, 11, 18, tzinfo=UTC)),
    ],
)
def test_moved_forward_expansion_finds_what_the_full_walk_finds(
    rule: str, start: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same next meetings as the walk from the first day (dateutil's own answer) ...
    after = datetime(2026, 12, 4, 12, tzinfo=UTC)
    tz = "Europe/Paris"
    local = start.astimezone(schedule.zone_or_utc(tz))
    full = rrulestr(rule, dtstart=local)
    expected = [m for m in full.xafter(after.astimezone(local.tzinfo), count=5, inc=True)]
    walk = Walk(monkeypatch)
    found = schedule.occurrences(start, None, tz, rule, after=after, limit=5)
    assert [o.start for o in found] == expected
    # ... after walking a few dozen occurrences at most
    assert walk.steps <= 60


def test_an_ongoing_occurrence_is_still_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # A daily meeting since 1950 lasting 3 hours, asked about one hour in: today's counts
    start = datetime(1950, 1, 1, 18, tzinfo=UTC)
    now = datetime.now(UTC).replace(hour=19, minute=0, second=0, microsecond=0)
    found = schedule.occurrences(
        start, start + timedelta(hours=3), "UTC", "FREQ=DAILY", after=now, limit=1
    )
    assert [o.start for o in found] == [now.replace(hour=18)]


@sqlite_only
async def test_cli_refuses_an_event_starting_in_year_one(copub: Copub, community: str) -> None:
    out = await copub.cli(
        "publish", "nightshift", "event", "--title", "Forever", "--content", "Daily.",
        "--start", "0001-01-01T18:00", "--rrule", "FREQ=DAILY", ok=False,
    )  # fmt: skip
    assert "--start" in out, out
    assert "outside the years 1900" in out, out
    async with copub.sessions() as session:
        assert await session.scalar(select(ObjectRow.id)) is None
