"""Attack class: JSON built to break the parser.

A hostile peer or API client sends a body nested 10,000 levels deep (Python's parser gives
up with a RecursionError), an integer of thousands of digits, ``NaN``, or bytes that are
not UTF-8 (UTF-16 included, which the parser alone would take and the store would not).
The inbox (before any signature check) and the authoring API answer 400 with a JSON reason,
never 500, and store nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from actors.store import tokens
from actors.store.models import InboxItemRow, ObjectRow
from actors.web.keys import SESSIONS
from tests import factories

AS2 = {"Content-Type": "application/activity+json"}
DEPTH = 10_000

UTF16_LIKE = (
    '{"id": "https://evil.example/a", "type": "Like", "actor": "https://evil.example/u",'
    ' "object": "https://evil.example/o"}'
)
BROKEN_BODIES = {
    "deep arrays": b"[" * DEPTH + b"]" * DEPTH,
    "deep objects": (
        b'{"id": "https://evil.example/a", "type": "Create", "actor": "https://evil.example/u",'
        b' "object": ' + b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH + b"}"
    ),
    "a huge integer": b'{"id": "https://evil.example/a", "type": "Like", "n": '
    + b"7" * 5000
    + b"}",
    "NaN": b'{"id": "https://evil.example/a", "type": "Like", "actor": "https://evil.example/u",'
    b' "object": "https://evil.example/o", "n": NaN}',
    "not UTF-8": b'{"id": "https://evil.example/\xff", "type": "Like"}',
    "UTF-16": UTF16_LIKE.encode("utf-16"),
}


async def count(app: web.Application, model: Any) -> int:
    async with app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("kind", BROKEN_BODIES)
@pytest.mark.parametrize("path", ["/inbox", "/c/nightshift/inbox"])
async def test_inbox_answers_400_to_json_that_breaks_the_parser(
    client: TestClient[Any, Any], app: web.Application, path: str, kind: str
) -> None:
    """Unsigned, so the parse is what answers: 400 with a reason, nothing stored."""
    await factories.create_community(app[SESSIONS])
    response = await client.post(path, data=BROKEN_BODIES[kind], headers=AS2)
    assert response.status == 400, await response.text()
    assert response.content_type == "application/json"
    assert (await response.json())["error"]
    assert await count(app, InboxItemRow) == 0


@pytest.mark.parametrize("kind", BROKEN_BODIES)
async def test_authoring_api_answers_400_to_json_that_breaks_the_parser(
    client: TestClient[Any, Any], app: web.Application, kind: str
) -> None:
    """With a valid token (a coordinator's tool gone wrong): 400 with a reason, nothing kept."""
    community = await factories.create_community(app[SESSIONS])
    async with app[SESSIONS].begin() as session:
        _row, secret = await tokens.create_token(session, community.id, "tool")
    headers = {**AS2, "Authorization": f"Bearer {secret}"}
    response = await client.post("/c/nightshift/outbox", data=BROKEN_BODIES[kind], headers=headers)
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["error"]
    assert body["field"] == "body"
    assert await count(app, ObjectRow) == 0
