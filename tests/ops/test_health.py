"""/healthz (the process answers) and /readyz (the database answers, at this code's schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from alembic.script import ScriptDirectory
from sqlalchemy import text

from actors.store.db import alembic_config
from actors.store.health import head_revisions
from tests import factories
from tests.conftest import ClientFactory
from tests.flows.copub import start_copub


async def test_healthz_and_readyz_answer_ok(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready"}


async def test_probes_need_no_signature_in_secure_mode(
    make_client: ClientFactory, database_url: str
) -> None:
    # Given secure mode, where our objects answer only signed GETs
    client = await make_client(factories.make_settings(database_url, server={"secure_mode": True}))
    # Then the probes still answer a plain GET, as a load balancer sends it
    for path in ("/healthz", "/readyz"):
        response = await client.get(path, headers={"Accept": "application/json"})
        assert response.status == 200, (path, await response.text())


async def test_readyz_is_503_with_a_reason_while_the_schema_is_behind(
    database_url: str, tmp_path: Path
) -> None:
    # Given a running copub whose database is then put back one migration
    copub = await start_copub(database_url, tmp_path)
    try:
        (head,) = head_revisions()
        script = ScriptDirectory.from_config(alembic_config(""))
        previous = script.get_revision(head).down_revision
        assert isinstance(previous, str)

        async def stamp(revision: str) -> None:
            async with copub.sessions.begin() as session:
                await session.execute(
                    text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
                )

        await stamp(previous)
        # When a probe asks whether it is ready
        status, answer = await copub.get(f"{copub.base_url}/readyz", accept="application/json")
        # Then it is not, and says why: which revision the database is at, which it needs
        assert status == 503
        assert answer["status"] == "unavailable"
        assert previous in answer["reason"]
        assert head in answer["reason"]
        assert "copub migrate" in answer["reason"]
        # And once the database is at the head again, it is ready; /healthz was never concerned
        status, _ = await copub.get(f"{copub.base_url}/healthz", accept="application/json")
        assert status == 200
        await stamp(head)
        status, answer = await copub.get(f"{copub.base_url}/readyz", accept="application/json")
        assert (status, answer) == (200, {"status": "ready"})
    finally:
        await copub.server.close()
    assert copub.errors == ["GET /readyz -> 503"]  # the one 5xx was the point
