"""What keeps ``copub publish`` quick to start: a real publish, in a fresh interpreter, loads
no HTTP client, cryptography, web app, templates, metrics or migrations, and maps only the
models it writes; the loaded modules' objects are left out of the garbage collector's walks."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.cli import PROCESS, loading
from actors.store.db import MODEL_MODULES
from tests import factories

ROOT = Path(__file__).resolve().parents[2]

# Nothing a publish needs; each costs start-up time (aiohttp and cryptography ~10-30 ms each)
NOT_FOR_PUBLISHING = (
    "aiohttp",
    "alembic",
    "cryptography",
    "jinja2",
    "prometheus_client",
    "pyld",
    "uvloop",
    "webauthn",
    "actors.web",
    "actors.delivery",
    "actors.store.jobqueue",
    "actors.store.models_accounts",
    "actors.store.models_digests",
    "actors.store.models_moderation",
    "actors.store.models_peers",
    "actors.store.models_whoknows",
    "federation.client",
    "federation.keys",
    "sqlalchemy.dialects.postgresql",
)

# The command as `copub` runs it (actors.cli.run), without ending the process, then the
# modules it loaded
PROBE = """
import gc, json, sys
from actors.cli import PROCESS, loading
PROCESS["alone"] = True  # as actors.cli.run has it
with loading():
    from actors.cli.root import main
try:
    main(sys.argv[1:], prog_name="copub")
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(sys.modules)))
print(gc.get_freeze_count())
"""


def test_the_model_modules_are_all_listed() -> None:
    # load_models() imports MODEL_MODULES for the migrations and their tests
    found = {p.stem for p in (ROOT / "actors" / "store").glob("models*.py")}
    assert set(MODEL_MODULES) == found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_publish_loads_nothing_it_does_not_use(
    sessions: async_sessionmaker[AsyncSession], config_file: Path
) -> None:
    community = await factories.create_community(sessions)
    argv = ["--config", str(config_file), "publish", community.slug, "story"]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            *argv,
            "--title",
            "Night shift",
            "--content",
            "What we learned.",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    published, loaded, frozen = out.stdout.strip().splitlines()
    assert published.startswith("published http")
    modules = set(json.loads(loaded))
    assert "actors.cli.publish" in modules  # the probe ran the command
    assert "markdown_it" in modules  # it rendered the story
    assert sorted(m for m in NOT_FOR_PUBLISHING if m in modules) == []
    assert int(frozen) > 50_000  # what loaded: modules, classes, mappers


def test_what_loaded_is_frozen_only_in_the_commands_own_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = gc.get_freeze_count()
    with loading():
        kept: list[list[int]] = [[] for _ in range(100)]  # tracked by the collector
    assert gc.get_freeze_count() == before  # a test process keeps collecting its garbage
    monkeypatch.setitem(PROCESS, "alone", True)
    try:
        with loading():
            kept += [[] for _ in range(100)]
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()
