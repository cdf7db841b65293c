"""Builders for tests: settings, config files, communities, and direct database reads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors import founding
from actors.community import Community
from actors.settings import Settings, settings_from_dict
from actors.store.db import create_engine, sessionmaker
from actors.store.models import CommunityRow

BASE_URL = "https://cop.test"
DOMAIN = "cop.test"

NIGHTSHIFT = {
    "slug": "nightshift",
    "name": "Night Shift Nursing",
    "summary": "Safe medication at night shifts.\n\nWe meet monthly to review cases.",
}


def settings_dict(
    database_url: str, *, base_url: str = BASE_URL, **sections: Any
) -> dict[str, Any]:
    """A raw config (as TOML would give it) for ``settings_from_dict``."""
    raw: dict[str, Any] = {
        "server": {"base_url": base_url},
        "database": {"url": database_url},
        "federation": {"allow_private_addresses": True},
    }
    raw.update(sections)
    return raw


def make_settings(database_url: str, *, base_url: str = BASE_URL, **sections: Any) -> Settings:
    return settings_from_dict(settings_dict(database_url, base_url=base_url, **sections))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    return repr(value)


def write_config(
    path: Path, database_url: str, *, base_url: str = BASE_URL, extra: str = ""
) -> Path:
    """A TOML config file on ``database_url``; ``extra`` is appended verbatim."""
    raw = settings_dict(database_url, base_url=base_url)
    lines = []
    for section, values in raw.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path


async def create_community(
    sessions: async_sessionmaker[AsyncSession],
    slug: str = NIGHTSHIFT["slug"],
    *,
    name: str | None = None,
    summary: str | None = None,
    closed: bool = False,
    profile_fields: tuple[tuple[str, str], ...] = (),
) -> Community:
    """A community created the way the CLI creates one, committed."""
    if name is None:
        name = NIGHTSHIFT["name"] if slug == NIGHTSHIFT["slug"] else slug.replace("_", " ").title()
    if summary is None:
        summary = NIGHTSHIFT["summary"] if slug == NIGHTSHIFT["slug"] else f"About {name}."
    async with sessions.begin() as session:
        return await founding.create_community(
            session,
            slug=slug,
            name=name,
            summary=summary,
            closed=closed,
            profile_fields=profile_fields,
        )


async def community_rows(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    """Every stored community row as a dict of its columns, by id (to compare snapshots)."""
    async with sessions() as session:
        rows = await session.scalars(select(CommunityRow).order_by(CommunityRow.id))
        columns = [c.key for c in CommunityRow.__table__.columns]
        return [{c: getattr(row, c) for c in columns} for row in rows]


async def count_communities(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(CommunityRow)) or 0


def community_rows_sync(database_url: str) -> list[dict[str, Any]]:
    """``community_rows`` for sync tests (the CLI ones); the database must be migrated."""

    async def read() -> list[dict[str, Any]]:
        engine = create_engine(database_url)
        try:
            return await community_rows(sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(read())
