"""copub for flow tests: the real app listening on 127.0.0.1, driven by its CLI.

``start_copub()`` picks a free port first so ``base_url`` (http://127.0.0.1:PORT) is known
before ``create_app``; the coordinator's commands run through the real ``copub`` CLI
(``await copub.cli("publish", ...)``) on the same database, in a worker thread because
the CLI runs its own event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.cli import main as copub_main
from actors.settings import settings_from_dict
from actors.store import queries, social
from actors.store.models import ActivityRow, DeliveryRow, FollowerRow, InboxItemRow
from actors.urls import Urls
from actors.web.app import create_app
from actors.web.keys import SESSIONS
from tests import factories
from tests.flows.remote import Person, RemoteServer
from tests.pg import free_port

T = TypeVar("T")

AS2 = "application/activity+json"

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""Run a test on SQLite alone, where PostgreSQL would add nothing but time."""

# Work the CLI queues from another process wakes the worker at once (actors/store/wakeups.py;
# tests/flows/test_wakeups.py); a retry falls due between polls: poll often, so tests see
# retries within a fraction of a second (the default is 1 s).
TEST_SECTIONS: dict[str, dict[str, Any]] = {"delivery": {"poll_interval_seconds": 0.1}}


async def run_cli(config_file: Path, *args: str, ok: bool = True) -> str:
    """``copub --config FILE *args`` in a thread (the CLI runs its own event loop)."""
    argv = ["--config", str(config_file), *args]
    result = await asyncio.to_thread(CliRunner().invoke, copub_main, argv)
    if ok:
        assert result.exit_code == 0, f"copub {' '.join(args)}: {result.output}"
    return result.output


def config_dict(database_url: str, port: int, **sections: Any) -> dict[str, Any]:
    raw = factories.settings_dict(database_url, base_url=f"http://127.0.0.1:{port}")
    raw["server"].update(host="127.0.0.1", port=port)
    for name, values in [*TEST_SECTIONS.items(), *sections.items()]:
        raw.setdefault(name, {}).update(values)
    return raw


@dataclass
class Copub:
    """A running copub and what tests need to talk to it."""

    server: TestServer
    app: web.Application
    config_file: Path
    urls: Urls
    errors: list[str]

    @property
    def base_url(self) -> str:
        return self.urls.base_url

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app[SESSIONS]

    @property
    def shared_inbox(self) -> str:
        return self.urls.shared_inbox()

    def actor(self, slug: str) -> str:
        return self.urls.community(slug)

    def inbox(self, slug: str) -> str:
        return self.urls.community_inbox(slug)

    def mention(self, slug: str) -> tuple[str, str]:
        """(actor id, handle) to mention the community in a Note."""
        return self.urls.community(slug), self.urls.handle(slug)

    async def cli(self, *args: str, ok: bool = True) -> str:
        """Run ``copub --config FILE *args``; fails the test on a non-zero exit if ``ok``."""
        return await run_cli(self.config_file, *args, ok=ok)

    async def create_community(self, slug: str = "nightshift", *, closed: bool = False) -> str:
        args = ["community", "create", slug, "--name", slug.title()]
        await self.cli(*args, *(["--closed"] if closed else []))
        return self.actor(slug)

    async def publish(self, slug: str, title: str, text: str) -> str:
        """A story published through the CLI; returns its object id."""
        out = await self.cli("publish", slug, "story", "--title", title, "--content", text)
        return out.strip().removeprefix("published ")

    async def get(self, url: str, accept: str = AS2) -> tuple[int, Any]:
        """GET ``url``; the JSON answer (or the text for HTML)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Accept": accept}) as response,
        ):
            text = await response.text()
            is_json = "json" in response.headers.get("Content-Type", "")
            return response.status, json.loads(text) if is_json else text

    async def post_json(self, url: str, body: Any) -> tuple[int, Any]:
        """An unsigned POST of ``body`` as activity+json; (status, JSON answer)."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=json.dumps(body), headers={"Content-Type": AS2}) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def followers(self, slug: str) -> tuple[int, list[str]]:
        """(totalItems, the first page's items) of the followers collection."""
        status, root = await self.get(self.urls.community_followers(slug))
        assert status == 200, root
        status, page = await self.get(self.urls.community_followers(slug) + "?page=1")
        assert status == 200, page
        return root["totalItems"], page.get("orderedItems", page.get("items", []))

    # -- direct reads, for facts the wire cannot show ---------------------------------

    async def count(self, statement: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(statement) or 0)

    async def follower_state(self, slug: str, actor_id: str) -> str | None:
        async with self.sessions() as session:
            community = await queries.get_community(session, slug)
            assert community is not None
            row = await social.get_follower(session, community.id, actor_id)
            return row.state if row else None

    async def inbox_items(self, activity_id: str) -> list[str]:
        """States of the stored inbox items with this activity id."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(InboxItemRow.state).where(InboxItemRow.activity_id == activity_id)
            )
            return list(rows)

    async def processed(self, activity_id: str, timeout: float = 15) -> None:
        """Wait until the inbox item of ``activity_id`` was applied (or given up on)."""
        await wait_until(
            lambda: self._settled(activity_id), timeout, f"inbox item {activity_id} processed"
        )

    async def _settled(self, activity_id: str) -> bool:
        states = await self.inbox_items(activity_id)
        return bool(states) and all(s in ("done", "failed") for s in states)

    async def sent(self, type_: str, object_id: str | None = None) -> list[dict[str, Any]]:
        """Activities copub stored as sent, of ``type_`` (about ``object_id``)."""
        query = select(ActivityRow.ap_json).where(ActivityRow.ap_type == type_)
        if object_id is not None:
            query = query.where(ActivityRow.object_ap_id == object_id)
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def deliveries_to(self, inbox: str, activity_type: str | None = None) -> int:
        """Delivery jobs queued for ``inbox`` (of activities of ``activity_type``)."""
        query = (
            select(func.count())
            .select_from(DeliveryRow)
            .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
            .where(DeliveryRow.inbox == inbox)
        )
        if activity_type is not None:
            query = query.where(ActivityRow.ap_type == activity_type)
        return await self.count(query)

    async def has_follower(self, actor_id: str) -> bool:
        query = select(func.count()).select_from(FollowerRow)
        return bool(await self.count(query.where(FollowerRow.actor_id == actor_id)))


async def follow(remote: RemoteServer, person: Person, copub: Copub, slug: str) -> dict[str, Any]:
    """``person`` follows the community and gets its Accept; returns the Follow."""
    sent = await remote.send_follow(person, copub.inbox(slug), copub.actor(slug))
    await remote.wait_for(
        lambda got: any(
            d.ok and d.type == "Accept" and d.activity["object"].get("id") == sent["id"]
            for d in got
        )
    )
    return sent


async def wait_until(
    check: Callable[[], Awaitable[T]], timeout: float = 15, what: str = "condition"
) -> T:
    """Poll an async check (a database fact with no event to wait on) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def _record_errors(app: web.Application) -> list[str]:
    errors: list[str] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        if response.status >= 500:
            errors.append(f"{request.method} {request.path_qs} -> {response.status}")

    app.on_response_prepare.append(on_prepare)
    return errors


async def start_copub(database_url: str, tmp_path: Path, **sections: Any) -> Copub:
    """The real app on a free loopback port, with a CLI config on the same database."""
    port = free_port()
    raw = config_dict(database_url, port, **sections)
    config_file = factories.write_toml(tmp_path / f"copub-{port}.toml", raw)
    settings = settings_from_dict(raw, source=str(config_file))
    app = create_app(settings)
    errors = _record_errors(app)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    return Copub(server, app, config_file, Urls(settings.server.base_url), errors)
