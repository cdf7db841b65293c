"""Processes of a fleet starting together: ``copub serve`` migrates and seeds (the configured
communities, the server key, the first admin's setup link) one process at a time, so web
processes started at once on one PostgreSQL all come up (before, all but one could fail on
the first admin's unique name: ``Error: admin``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actors.store.db import create_engine, sessionmaker
from actors.store.models import CommunityRow
from actors.store.models_accounts import AccountRow
from tests import factories

PROCESSES = 3
SEED = """
import asyncio, sys
from actors.cli.server import _seed
from actors.settings import load_settings

created, link = asyncio.run(_seed(load_settings(sys.argv[1])))
assert link is not None
print(",".join(created))
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_processes_seeding_at_once_all_start(database_url: str, tmp_path: Path) -> None:
    raw = factories.settings_dict(database_url)
    raw["communities"] = [{"slug": "nightshift", "name": "Night Shift"}]
    config = factories.write_toml(tmp_path / "copub.toml", raw)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", SEED, str(config), stdout=asyncio.subprocess.PIPE
        )
        for _ in range(PROCESSES)
    ]
    outputs = [(await proc.communicate())[0].decode().strip() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * PROCESSES
    assert sorted(outputs) == [""] * (PROCESSES - 1) + ["nightshift"]
    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            admins = await session.scalar(select(func.count()).select_from(AccountRow))
            communities = await session.scalar(select(func.count()).select_from(CommunityRow))
    finally:
        await engine.dispose()
    assert (admins, communities) == (1, 1)
