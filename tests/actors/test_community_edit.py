"""Changing what a community says of itself (name, summary, profile fields, closed):
``founding.update_community``, which ``copub community edit`` and the console's server
page both call. Followers get an Update of the Group when its actor document changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import founding
from actors.cli import main
from actors.community import Community
from actors.store import queries
from actors.store.models import ActivityRow, DeliveryRow
from actors.urls import Urls
from tests import factories
from tests.pages.builders import actor_url, add_follower

Sessions = async_sessionmaker[AsyncSession]
URLS = Urls(factories.BASE_URL)
WHEN = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


async def sent_updates(db: Sessions) -> list[tuple[dict[str, Any], list[str]]]:
    """Each Update the server sent: the activity and the inboxes it was queued for."""
    async with db() as session:
        rows = list(
            await session.scalars(select(ActivityRow).where(ActivityRow.ap_type == "Update"))
        )
        return [
            (
                row.ap_json,
                sorted(
                    await session.scalars(
                        select(DeliveryRow.inbox).where(DeliveryRow.activity_id == row.id)
                    )
                ),
            )
            for row in rows
        ]


async def edit(db: Sessions, community: Community, **changes: Any) -> Community:
    values: dict[str, Any] = {
        "name": community.name,
        "summary": community.summary,
        "closed": community.closed,
        "profile_fields": community.profile_fields,
        **changes,
    }
    async with db.begin() as session:
        return await founding.update_community(session, URLS, community, now=WHEN, **values)


async def test_followers_get_the_new_profile(sessions: Sessions) -> None:
    community = await factories.create_community(sessions, "nightshift")
    alice, bob = actor_url("alice"), actor_url("bob", "other.example")
    await add_follower(sessions, community, alice)
    await add_follower(sessions, community, bob, state="pending")  # not a follower yet

    updated = await edit(
        sessions, community, name="  Night Shift Nurses ", summary="Safer nights.",
        closed=True, profile_fields=(("Meets", "Third Tuesday"),),
    )  # fmt: skip

    assert (updated.name, updated.summary, updated.closed) == (
        "Night Shift Nurses",
        "Safer nights.",
        True,
    )
    assert updated.profile_fields == (("Meets", "Third Tuesday"),)
    async with sessions() as session:
        assert await queries.get_community(session, "nightshift") == updated
    [(update, inboxes)] = await sent_updates(sessions)
    assert inboxes == [alice + "/inbox"]
    assert update["actor"] == update["object"]["id"] == URLS.community("nightshift")
    assert update["object"]["type"] == "Group"
    assert update["object"]["name"] == "Night Shift Nurses"
    assert update["object"]["summary"] == "<p>Safer nights.</p>"
    assert update["object"]["manuallyApprovesFollowers"] is True
    assert update["object"]["attachment"] == [
        {"type": "PropertyValue", "name": "Meets", "value": "Third Tuesday"}
    ]
    assert update["object"]["updated"] == "2026-12-05T09:30:00Z"
    assert update["cc"] == [URLS.community_followers("nightshift")]
    assert "publicKeyPem" in update["object"]["publicKey"]


async def test_nothing_changed_sends_nothing(sessions: Sessions) -> None:
    community = await factories.create_community(sessions, "nightshift")
    await add_follower(sessions, community, actor_url("alice"))
    assert await edit(sessions, community, name=community.name + "  ") == community
    assert await sent_updates(sessions) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "N" * 201}, "name"),
        ({"summary": "s" * 5001}, "summary"),
        ({"profile_fields": (("", "a value without a name"),)}, "fields"),
        ({"profile_fields": (("Meets", "x" * 256),)}, "fields"),
    ],
)
async def test_a_value_refused_changes_nothing(
    sessions: Sessions, changes: dict[str, Any], field: str
) -> None:
    community = await factories.create_community(sessions, "nightshift")
    await add_follower(sessions, community, actor_url("alice"))
    before = await factories.community_rows(sessions)
    with pytest.raises(founding.InvalidCommunity) as refused:
        await edit(sessions, community, closed=True, **changes)
    assert refused.value.field == field
    assert await factories.community_rows(sessions) == before
    assert await sent_updates(sessions) == []


def test_copub_community_edit(config_file: Path, database_url: str) -> None:
    def copub(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(config_file), *args])
        assert result.exit_code == 0, result.output
        return result.output

    copub("community", "create", "nightshift", "--name", "Night Shift", "--summary", "Nights.")
    fields = ("--field", "Meets=Third Tuesday", "--field", "Where=Ward B")
    out = copub(
        "community", "edit", "nightshift", "--name", "Night Shift Nursing", "--closed", *fields
    )
    assert "updated @nightshift@cop.test" in out
    [row] = factories.community_rows_sync(database_url)
    assert (row["name"], row["summary"], row["closed"]) == ("Night Shift Nursing", "Nights.", True)
    assert row["profile_fields"] == [
        {"name": "Meets", "value": "Third Tuesday"},
        {"name": "Where", "value": "Ward B"},
    ]
    assert "nothing changed" in copub("community", "edit", "nightshift", "--closed")
    copub("community", "edit", "nightshift", "--open", "--no-fields", "--summary", "")
    [row] = factories.community_rows_sync(database_url)
    assert (row["summary"], row["closed"], row["profile_fields"]) == ("", False, [])

    result = CliRunner().invoke(
        main, ["--config", str(config_file), "community", "edit", "nightshift", "--field", "x"]
    )
    assert result.exit_code != 0
    assert "NAME=VALUE" in result.output
    result = CliRunner().invoke(
        main, ["--config", str(config_file), "community", "edit", "nightshift", "--name", " "]
    )
    assert result.exit_code != 0
    assert "needs a name" in result.output
