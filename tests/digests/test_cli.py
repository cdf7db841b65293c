"""For operators, on a real SMTP server: ``copub digest status`` and ``send-now``, and the
digests sent beside ``copub worker``."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.cli import main as copub_main
from actors.digests.mailer import probe
from actors.doctor import Check, run_checks
from actors.settings import Settings
from actors.store.models_digests import DigestSubscriptionRow
from actors.web.digest_pages import beside_worker
from tests import factories
from tests.digests.conftest import email_settings
from tests.digests.smtp import MailServer, part
from tests.pages import builders
from tests.pg import free_port


async def cli(config: Path, *args: str) -> str:
    argv = ["--config", str(config), *args]
    result = await asyncio.to_thread(CliRunner().invoke, copub_main, argv)
    assert result.exit_code == 0, result.output
    return result.output


async def due_digest(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Three subscriptions (one due a weekly digest) and a story of last week."""
    community = await factories.create_community(sessions)
    two_weeks_ago = builders.now() - timedelta(days=14)
    rows = [  # (address, frequency, confirmed): the monthly one after November closed
        ("a@hospital.example", "weekly", two_weeks_ago),
        ("b@clinic.example", "monthly", builders.now()),
        ("c@x.example", "weekly", None),
    ]
    async with sessions.begin() as session:
        for address, frequency, confirmed in rows:
            session.add(
                DigestSubscriptionRow(
                    community_id=community.id, email=address, frequency=frequency,
                    confirmed_at=confirmed, created_at=two_weeks_ago,
                )
            )  # fmt: skip
    await builders.add_story(
        sessions, community, "Last week", published=builders.now() - timedelta(days=7)
    )


async def test_status_and_send_now(
    tmp_path: Path, database_url: str, sessions: async_sessionmaker[AsyncSession], mail: MailServer
) -> None:
    await due_digest(sessions)
    email: dict[str, Any] = dataclasses.asdict(email_settings(mail.port))
    config = factories.write_toml(
        tmp_path / "config.toml", factories.settings_dict(database_url, email=email)
    )
    status = await cli(config, "digest", "status", "nightshift")
    assert "weekly 1, monthly 1, waiting to confirm 1" in status
    assert "a@hospital.example" not in status
    sent = await cli(config, "digest", "send-now", "nightshift")
    assert "sent 1" in sent
    (digest,) = mail.messages
    assert digest["To"] == "a@hospital.example"
    assert "Last week" in part(digest, "plain")
    assert "sent 0" in await cli(config, "digest", "send-now", "nightshift")
    assert "done 1" in await cli(config, "digest", "status", "nightshift")
    assert len(mail.messages) == 1


async def test_send_now_needs_email(config_file: Path) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, copub_main, ["--config", str(config_file), "digest", "send-now", "x"]
    )
    assert result.exit_code != 0
    assert "[email] has no host" in result.output


async def test_the_worker_sends_due_digests(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], mail: MailServer
) -> None:
    await due_digest(sessions)
    configured = dataclasses.replace(settings, email=email_settings(mail.port))
    async with beside_worker(configured, sessions):
        (digest,) = await mail.wait_for(1)
    assert digest["To"] == "a@hospital.example"


async def test_doctor_checks_the_smtp_server(settings: Settings, mail: MailServer) -> None:
    assert await probe(email_settings(mail.port)) is None
    closed = free_port()
    problem = await probe(email_settings(closed))
    assert problem is not None
    assert problem.startswith(f"cannot reach 127.0.0.1:{closed}")
    checks = await run_checks(
        dataclasses.replace(settings, email=email_settings(mail.port)), seconds=1
    )
    assert checks[-1] == Check("email", True, f"127.0.0.1:{mail.port} takes mail")
    assert "email" not in [check.name for check in await run_checks(settings, seconds=1)]
