"""The domain's errors (``actors.errors``) are answered in one place for the command line
and one for HTTP: the CLI prints the message and exits 1, the web app answers the error's
status with ``{"error", "field"}`` as JSON or its error page for a browser."""

from __future__ import annotations

from typing import Any

import click
import pytest
from aiohttp import web
from click.testing import CliRunner

from actors.cli.support import PluginGroup
from actors.content import InvalidContent
from actors.errors import Conflict, CopubError, Invalid, NotFound
from actors.publishing import NotPublished, Unchanged, WrongKind
from actors.settings import ConfigError, Settings
from actors.web.app import create_app
from federation.errors import Gone


def _group_raising(error: Exception) -> click.Group:
    group = PluginGroup()

    @group.command("boom")
    def boom() -> None:
        raise error

    return group


@pytest.mark.parametrize(
    "error",
    [
        Conflict("community 'x' is being edited"),
        NotPublished("no story 'abc' in nightshift"),
        ConfigError("config.toml: [server] base_url is missing"),
        Gone("that actor is gone"),
    ],
)
def test_the_command_line_prints_the_message_and_exits_1(error: Exception) -> None:
    result = CliRunner().invoke(_group_raising(error), ["boom"])
    assert result.exit_code == 1
    assert result.output == f"Error: {error}\n"


def test_other_exceptions_are_not_taken_for_refusals() -> None:
    result = CliRunner().invoke(_group_raising(KeyError("bug")), ["boom"])
    assert isinstance(result.exception, KeyError)


def test_each_kind_keeps_the_builtin_a_caller_expects() -> None:
    assert isinstance(InvalidContent("name", "too long"), Invalid | ValueError)
    assert isinstance(NotPublished("gone"), NotFound | LookupError)
    assert isinstance(WrongKind("a story"), NotPublished)
    assert all(
        isinstance(e, CopubError) for e in (Unchanged("same"), ConfigError("x"), Conflict("y"))
    )


def _raising(error: Exception) -> Any:
    async def handler(request: web.Request) -> web.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            InvalidContent("startTime", "the start time is not a date"),
            400,
            {"error": "the start time is not a date", "field": "startTime"},
        ),
        (
            NotPublished("no practice 'p1' here"),
            404,
            {"error": "no practice 'p1' here", "field": "object"},
        ),
        (WrongKind("p1 is a story"), 400, {"error": "p1 is a story", "field": "type"}),
        (Conflict("community 'x' exists"), 409, {"error": "community 'x' exists"}),
    ],
)
async def test_http_answers_the_status_with_a_json_reason(
    aiohttp_client: Any, settings: Settings, error: CopubError, status: int, body: Any
) -> None:
    app = create_app(settings)
    app.router.add_post("/test/raise", _raising(error))
    client = await aiohttp_client(app)
    response = await client.post("/test/raise")
    assert response.status == status
    assert await response.json() == body


async def test_a_browser_gets_the_error_page_with_the_message(
    aiohttp_client: Any, settings: Settings
) -> None:
    app = create_app(settings)
    app.router.add_get("/test/raise", _raising(NotPublished("no story 'abc' in nightshift")))
    client = await aiohttp_client(app)
    response = await client.get("/test/raise", headers={"Accept": "text/html"})
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "no story &#39;abc&#39; in nightshift" in await response.text()
