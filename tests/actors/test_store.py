"""Storage on SQLite and PostgreSQL: migrations, the models they match, communities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actors import founding, signing
from actors.settings import CommunitySeed, ProfileField
from actors.store import queries
from actors.store.db import alembic_config, create_engine, migrate, sessionmaker
from actors.store.models import Base, FollowerRow
from actors.store.states import FollowerState
from actors.urls import Urls
from tests import factories

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(empty_database_url: str) -> Any:
    """An engine on an empty database (no tables yet)."""
    engine = create_engine(empty_database_url)
    yield engine
    await engine.dispose()


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT version_num FROM alembic_version"))


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_create_every_table(engine: AsyncEngine, empty_database_url: str) -> None:
    assert await table_names(engine) == set()
    await migrate(engine)
    assert await table_names(engine) == {*Base.metadata.tables, "alembic_version"}
    assert await current_revision(engine) == head_revision(empty_database_url)


async def test_migrations_are_idempotent(engine: AsyncEngine, empty_database_url: str) -> None:
    await migrate(engine)
    sessions = sessionmaker(engine)
    await factories.create_community(sessions)
    before = await factories.community_rows(sessions)
    await migrate(engine)
    await migrate(engine)
    assert await current_revision(engine) == head_revision(empty_database_url)
    assert await factories.community_rows(sessions) == before


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_model_drift_would_be_detected(engine: AsyncEngine) -> None:
    """The comparison above is not blind: a dropped column shows up as a difference."""
    await migrate(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE moderators"))
    async with engine.connect() as conn:
        diffs = await conn.run_sync(_diff)
    assert [d[0] for d in diffs] == ["add_table"]
    assert diffs[0][1].name == "moderators"


async def test_insert_get_list(sessions: Sessions) -> None:
    before = datetime.now(UTC)
    await factories.create_community(sessions, "zeta", name="Zeta", closed=True)
    created = await factories.create_community(
        sessions,
        "alpha_1",
        name="  Alpha  ",
        summary="  Line one.\n\nLine two.  ",
        profile_fields=(("Meets", "Tuesdays"), ("Site", "https://alpha.example")),
    )
    async with sessions() as session:
        got = await queries.get_community(session, "alpha_1")
        listed = await queries.list_communities(session)
        missing = await queries.get_community(session, "nobody")
    assert got == created
    assert got is not None
    assert got.name == "Alpha"
    assert got.summary == "Line one.\n\nLine two."
    assert got.closed is False
    assert got.posting_policy == "followers"
    assert got.profile_fields == (("Meets", "Tuesdays"), ("Site", "https://alpha.example"))
    assert got.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert got.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert got.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= got.created_at <= datetime.now(UTC)
    assert [c.slug for c in listed] == ["alpha_1", "zeta"]
    assert listed[1].closed is True
    assert missing is None
    assert await factories.count_communities(sessions) == 2


@pytest.mark.real_keys
async def test_each_community_has_its_own_key(sessions: Sessions) -> None:
    a = await factories.create_community(sessions, "a")
    b = await factories.create_community(sessions, "b")
    assert a.public_key_pem != b.public_key_pem
    assert a.private_key_pem != b.private_key_pem


async def test_duplicate_create_changes_nothing(sessions: Sessions) -> None:
    await factories.create_community(sessions, "nightshift", name="Night Shift Nursing")
    await factories.create_community(sessions, "other")
    before = await factories.community_rows(sessions)
    with pytest.raises(queries.AlreadyExists):
        await factories.create_community(
            sessions, "nightshift", name="Impostor", summary="Other", closed=True
        )
    assert await factories.community_rows(sessions) == before
    assert await factories.count_communities(sessions) == 2


async def test_unique_constraint_backs_the_check(sessions: Sessions) -> None:
    """Two creators racing past the existence check still cannot both insert."""
    await factories.create_community(sessions, "nightshift")
    before = await factories.community_rows(sessions)
    with pytest.raises(queries.AlreadyExists):
        async with sessions.begin() as session:
            await queries.insert_community(
                session,
                slug="nightshift",
                name="Impostor",
                summary="",
                closed=False,
                private_key_pem="x",
                public_key_pem="y",
            )
    assert await factories.community_rows(sessions) == before


@pytest.mark.parametrize(
    ("slug", "name"),
    [("Night", "N"), ("night-shift", "N"), ("", "N"), ("_x", "N"), ("a" * 64, "N"), ("ok", "  ")],
)
async def test_invalid_community_is_refused(sessions: Sessions, slug: str, name: str) -> None:
    with pytest.raises(founding.InvalidCommunity):
        await factories.create_community(sessions, slug, name=name)
    assert await factories.count_communities(sessions) == 0


async def test_seed_creates_only_missing_communities(sessions: Sessions) -> None:
    await factories.create_community(sessions, "nightshift", name="Kept As Is")
    seeds = (
        CommunitySeed(slug="nightshift", name="From Config"),
        CommunitySeed(
            slug="dayshift", name="Day Shift", closed=True, fields=(ProfileField("Meets", "Fri"),)
        ),
    )
    created = await founding.seed_communities(sessions, seeds)
    assert [c.slug for c in created] == ["dayshift"]
    assert await founding.seed_communities(sessions, seeds) == []
    async with sessions() as session:
        kept = await queries.get_community(session, "nightshift")
        day = await queries.get_community(session, "dayshift")
    assert kept is not None
    assert kept.name == "Kept As Is"
    assert day is not None
    assert day.closed
    assert day.profile_fields == (("Meets", "Fri"),)


async def test_server_key_is_made_once(sessions: Sessions) -> None:
    urls = Urls(factories.BASE_URL)
    first = await signing.server_signer(sessions, urls)
    second = await signing.server_signer(sessions, urls)
    assert first.key_id == "https://cop.test/actor#main-key"
    assert first.private_key_pem == second.private_key_pem


async def test_moderators(sessions: Sessions) -> None:
    community = await factories.create_community(sessions)
    async with sessions.begin() as session:
        await queries.add_moderator(session, community.id, "https://social.example/users/ann")
        await queries.add_moderator(session, community.id, "https://social.example/users/bob")
    with pytest.raises(queries.AlreadyExists):
        async with sessions.begin() as session:
            await queries.add_moderator(session, community.id, "https://social.example/users/ann")
    async with sessions() as session:
        mods = await queries.list_moderators(session, community.id)
    assert mods == ["https://social.example/users/ann", "https://social.example/users/bob"]


async def test_a_state_is_stored_as_its_string_and_loaded_as_its_member(
    sessions: Sessions,
) -> None:
    """State columns hold the strings they always held (no migration); a row hands back the
    StrEnum member, and a string that names no state is refused before it is written."""
    community = await factories.create_community(sessions)
    async with sessions.begin() as session:
        session.add(
            FollowerRow(
                community_id=community.id,
                actor_id="https://social.example/users/ann",
                inbox="https://social.example/users/ann/inbox",
                state="accepted",
                follow_activity_id="https://social.example/follows/1",
            )
        )
    async with sessions() as session:
        raw = await session.scalar(text("SELECT state FROM followers"))
        row = await session.scalar(select(FollowerRow))
    assert raw == "accepted"
    assert row is not None
    assert row.state is FollowerState.ACCEPTED
    with pytest.raises(StatementError, match="'acepted' is not a valid FollowerState"):
        async with sessions.begin() as session:
            await session.execute(update(FollowerRow).values(state="acepted"))
    async with sessions() as session:
        assert await session.scalar(text("SELECT state FROM followers")) == "accepted"
