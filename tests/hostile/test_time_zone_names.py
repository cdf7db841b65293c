"""Attack class: time zone names that name no zone.

An event's ``timezone`` comes from a follower, a forum or a coordinator. Some names are not
simply unknown to the zone database but make it fail otherwise: ``Europe`` is a directory
of it, an overlong name is too long for a file name, ``../x`` is a path. Whatever the name,
a follower's event is filed in UTC, a forum's event too, a stored one is shown in UTC, and
a coordinator or an operator is told the name is not a time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from actors.content import InvalidContent
from actors.event_json import remote_event_draft
from actors.events import EventDraft, validate_event
from actors.schedule import occurrences
from actors.settings import ConfigError, load_settings
from actors.store.models import ObjectRow
from actors.store.models_practice import EventDetailRow
from adapters.discourse.mapping import event_of
from tests.discourse.test_mapping import post
from tests.flows import mobilizon
from tests.flows.copub import Copub, sqlite_only
from tests.flows.remote import Person, RemoteServer

NOT_ZONES = ["Europe", "Europe/" + "x" * 300, "../../etc/passwd", "Mars/Olympus", ""]
START = datetime(2027, 1, 5, 17, tzinfo=UTC)


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_followers_event_is_read_in_utc(name: str) -> None:
    event = {"type": "Event", "startTime": "2027-01-05T17:00:00", "timezone": name}
    draft = remote_event_draft(event)
    assert draft is not None
    assert (draft.timezone, draft.start) == ("UTC", START)


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_forum_event_is_read_in_utc(name: str) -> None:
    event = event_of(post(f'[event start="2027-01-05 17:00" timezone="{name}"]\n[/event]'))
    assert event is not None
    assert (event.timezone, event.start) == ("UTC", START)


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_stored_event_is_shown_in_utc(name: str) -> None:
    [meeting] = occurrences(START, None, name, None, after=START - timedelta(days=1))
    assert meeting.start == START
    assert meeting.start.utcoffset() == timedelta(0)


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_coordinator_is_told_the_zone_is_not_one(name: str) -> None:
    draft = EventDraft(title="Meeting", markdown="Talk.", start=START, timezone=name)
    with pytest.raises(InvalidContent) as refused:
        validate_event(draft)
    assert refused.value.field == "timezone"


@pytest.mark.parametrize("name", NOT_ZONES)
def test_an_operator_is_told_the_default_zone_is_not_one(name: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[content]\ndefault_timezone = "{name}"\n')
    with pytest.raises(ConfigError, match="default_timezone"):
        load_settings(config)


@sqlite_only
async def test_a_followers_event_in_a_zone_directory_is_filed(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # When a follower sends an event whose time zone is "Europe", a directory of the zone
    # database
    start, end = "2027-01-05T17:00:00Z", "2027-01-05T19:00:00Z"
    event = mobilizon.event(follower, start=start, end=end, timezone="Europe")
    create = mobilizon.create(follower, event)
    status, answer = await remote.post(follower, copub.inbox("nightshift"), create)
    assert status == 202, answer
    await copub.processed(create["id"])
    # Then it is filed, in UTC
    assert await copub.inbox_items(create["id"]) == ["done"]
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == event["id"]))
        assert row is not None
        detail = await session.get(EventDetailRow, row.id)
    assert detail is not None
    assert detail.timezone == "UTC"
