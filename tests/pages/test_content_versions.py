"""The content version: bumped once per committed transaction for the communities its
writes touched (flushed rows and statements alike), and for nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update

from actors.community import Community
from actors.store import versions
from actors.store.loop_reads import LoopReads
from actors.store.models import CommunityRow, FollowerRow, ObjectRow
from tests import factories
from tests.pages.builders import Sessions, actor_url, add_follower


async def version(sessions: Sessions, community: Community) -> int:
    async with sessions() as session:
        found = await versions.of_slug(session, community.slug)
    assert found is not None
    return found.version


async def both(sessions: Sessions, a: Community, b: Community) -> tuple[int, int]:
    return await version(sessions, a), await version(sessions, b)


def post(community: Community, n: int) -> dict[str, object]:
    url = f"https://social.example/statuses/{community.slug}-{n}"
    return {
        "ap_id": url, "community_id": community.id, "kind": "post", "ap_type": "Note",
        "local": False, "attributed_to": "https://social.example/users/ann",
        "content_html": "<p>Hi</p>", "ap_json": {"id": url},
    }  # fmt: skip


@pytest.fixture
async def pair(sessions: Sessions) -> tuple[Community, Community]:
    return (
        await factories.create_community(sessions, "nightshift"),
        await factories.create_community(sessions, "dayshift"),
    )


async def test_statements_name_their_community(
    sessions: Sessions, pair: tuple[Community, Community]
) -> None:
    night, day = pair
    start = await both(sessions, night, day)
    async with sessions.begin() as session:  # a batch of inserts, as a bulk apply writes
        await session.execute(insert(ObjectRow), [post(night, 1), post(night, 2)])
        await session.execute(insert(ObjectRow).values(**post(night, 3)))
    assert await both(sessions, night, day) == (start[0] + 1, start[1])
    async with sessions.begin() as session:
        await session.execute(
            update(ObjectRow)
            .where(ObjectRow.community_id == day.id, ObjectRow.kind == "post")
            .values(title="T")
        )
    assert await both(sessions, night, day) == (start[0] + 1, start[1] + 1)


async def test_a_statement_naming_no_community_bumps_every_one(
    sessions: Sessions, pair: tuple[Community, Community]
) -> None:
    night, day = pair
    await add_follower(sessions, night, actor_url("ann"))
    start = await both(sessions, night, day)
    async with sessions.begin() as session:
        await session.execute(delete(FollowerRow).where(FollowerRow.actor_id == actor_url("ann")))
    assert await both(sessions, night, day) == (start[0] + 1, start[1] + 1)


async def test_rolled_back_or_unchanged_bumps_nothing(
    sessions: Sessions, pair: tuple[Community, Community]
) -> None:
    night, day = pair
    start = await both(sessions, night, day)

    async def rolled_back() -> None:
        async with sessions.begin() as session:
            await session.execute(insert(ObjectRow).values(**post(night, 1)))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await rolled_back()
    async with sessions.begin() as session:
        row = await session.get(CommunityRow, night.id)
        assert row is not None
        row.name = row.name  # set, not changed
    async with sessions.begin() as session:  # reads only
        await session.get(CommunityRow, day.id)
    assert await both(sessions, night, day) == start


async def test_one_bump_per_transaction(
    sessions: Sessions, pair: tuple[Community, Community]
) -> None:
    night, _day = pair
    start = await version(sessions, night)
    async with sessions.begin() as session:
        for n in range(5):
            session.add(ObjectRow(**post(night, n)))
            await session.flush()
    assert await version(sessions, night) == start + 1


async def test_a_statement_changing_no_row_bumps_nothing(
    sessions: Sessions, pair: tuple[Community, Community]
) -> None:
    """A periodic purge that finds nothing to delete changes no page."""
    start = await both(sessions, *pair)
    async with sessions.begin() as session:
        result = await session.execute(
            delete(FollowerRow).where(FollowerRow.actor_id == actor_url("nobody"))
        )
        assert result.rowcount == 0  # type: ignore[attr-defined]
    assert await both(sessions, *pair) == start


async def test_the_reader_falls_back_to_a_session(
    sessions: Sessions, pair: tuple[Community, Community], tmp_path: Path
) -> None:
    """A SQLite file it cannot read (locked past its timeout, say): the session's answer."""
    night, _day = pair
    expected = await version(sessions, night)
    reads = LoopReads(sessions, tmp_path / "not-a-database")
    reader = versions.VersionReader(sessions, reads)
    (tmp_path / "not-a-database").write_bytes(b"garbage" * 100)
    found = await reader.of_slug(night.slug)
    reads.close()
    assert found is not None
    assert found.version == expected
