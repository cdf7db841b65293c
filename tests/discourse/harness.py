"""copub with the Discourse adapter, connected to a fake forum, for flow tests.

``start_connected(database_url, tmp_path, forum)`` writes a config file with
``adapters = ["adapters.discourse"]`` and a ``[[discourse]]`` table for ``nightshift``
pointing at the fake, starts the real app on a free port (like tests/flows) and points the
forum's webhook at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from actors.settings import settings_from_dict
from actors.store.models import ActivityRow, DeliveryRow, ObjectRow
from actors.urls import Urls
from actors.web.app import create_app
from adapters.discourse import DISCOURSE, DiscourseAdapter
from adapters.discourse.models import ForumJobRow, ForumPostRow
from tests.factories import write_toml
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, _record_errors, config_dict, wait_until
from tests.pg import free_port

SLUG = "nightshift"
SECRET = "s3cret-webhook-key"
API_KEY = "k-0123456789abcdef"
BOT = "copub-bot"


def forum_table(forum: FakeDiscourse, category: Category | str, **options: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "community": SLUG,
        "base_url": forum.base_url,
        "api_key": API_KEY,
        "api_username": BOT,
        "category": category if isinstance(category, str) else category.id,
        "webhook_secret": SECRET,
        "poll_interval_seconds": 0,
        "retry_seconds": 0.05,
    }
    table.update(options)
    return table


def prepare_forum(forum: FakeDiscourse) -> tuple[Category, User]:
    """The hospital's forum: the bot (an admin's single-user key), Nora, "Night shift"."""
    forum.add_user(BOT, "copub", admin=True)
    nora = forum.add_user("nora", "Nora Night")
    category = forum.add_category("night-shift", "Night shift")
    forum.add_key(API_KEY, BOT)
    return category, nora


async def start_connected(
    database_url: str, tmp_path: Path, table: dict[str, Any], forum: FakeDiscourse | None = None
) -> Copub:
    port = free_port()
    raw = config_dict(database_url, port)
    raw["adapters"] = ["adapters.discourse"]
    raw["discourse"] = [table]
    config_file = tmp_path / f"copub-{port}.toml"
    write_toml(config_file, raw)
    settings = settings_from_dict(raw, source=str(config_file))
    app = create_app(settings)
    errors = _record_errors(app)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    copub = Copub(server, app, config_file, Urls(settings.server.base_url), errors)
    if forum is not None:
        forum.hooks.configure(copub.base_url + f"/adapters/discourse/{SLUG}/webhook", SECRET)
    return copub


def adapter(copub: Copub) -> DiscourseAdapter:
    return copub.app[DISCOURSE]


async def jobs_settled(copub: Copub, timeout: float = 15) -> None:
    """Wait until the adapter's queue has nothing due (queued now, or being worked on)."""

    async def idle() -> bool:
        query = select(func.count()).select_from(ForumJobRow).where(ForumJobRow.state == "queued")
        return await copub.count(query) == 0

    await wait_until(idle, timeout, "the Discourse job queue to drain")


async def count_rows(copub: Copub, model: Any, *where: Any) -> int:
    return await copub.count(select(func.count()).select_from(model).where(*where))


async def snapshot(copub: Copub) -> dict[str, int]:
    """How many objects, activities, deliveries and forum links there are."""
    return {
        "objects": await count_rows(copub, ObjectRow),
        "activities": await count_rows(copub, ActivityRow),
        "deliveries": await count_rows(copub, DeliveryRow),
        "links": await count_rows(copub, ForumPostRow),
    }
