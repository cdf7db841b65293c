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


def toml_value(value: Any) -> str:
    """One TOML value: a boolean, a number, a string, an array or an inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        pairs = ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a number, or a string (a JSON string is a TOML basic string)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def toml_text(raw: dict[str, Any]) -> str:
    """A raw config as TOML: top-level keys, tables and arrays of tables (all copub reads)."""
    lines = [f"{k} = {toml_value(v)}" for k, v in raw.items() if not _is_table(v)]
    for key, value in raw.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {toml_value(v)}" for k, v in value.items()]
        elif _is_table(value):
            for item in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def write_toml(path: Path, raw: dict[str, Any], *, extra: str = "") -> Path:
    """Write ``raw`` (as ``settings_dict`` makes it) to ``path`` as TOML; ``extra`` is
    appended verbatim."""
    path.write_text(toml_text(raw) + extra, encoding="utf-8")
    return path


def write_config(
    path: Path, database_url: str, *, base_url: str = BASE_URL, extra: str = ""
) -> Path:
    """A TOML config file on ``database_url``; ``extra`` is appended verbatim."""
    return write_toml(path, settings_dict(database_url, base_url=base_url), extra=extra)


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
