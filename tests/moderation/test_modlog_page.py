"""The public moderation log (``/c/SLUG/modlog``): browsers get the page, anyone else
JSON (``{"community", "items", "next"}``); the newest first, fifty a page, older ones by
``?before=ID``; the coordinator's name only when the community shows names; a target is
linked only when it is an http(s) URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.moderation.modlog import RULES, Moderator, record
from actors.moderation.settings import ModerationSettings, update_moderation_settings
from actors.store.models_moderation import ModAction
from actors.web.keys import SESSIONS, URLS
from tests import factories

Sessions = async_sessionmaker[AsyncSession]
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
JSON_ = {"Accept": "application/json"}
POST = "https://social.example/users/sam/statuses/1"
SAM = "https://social.example/users/sam"
ALICE = Moderator("alice", "coordinator")


async def get(client: TestClient[Any, Any], path: str, headers: dict[str, str]
              ) -> tuple[int, str, Any]:  # fmt: skip
    async with client.get(path, headers=headers) as answer:
        text = await answer.text()
        is_json = answer.content_type == "application/json"
        assert answer.headers.get("Vary") == "Accept" or answer.status >= 400
        return answer.status, text, (await answer.json() if is_json else None)


async def write(sessions: Sessions, community: Community, *lines: tuple[Any, ...]) -> None:
    async with sessions.begin() as session:
        for action, target, by, reason in lines:
            await record(session, community, action, target, by, reason)


async def show_names(client: TestClient[Any, Any], community: Community, on: bool) -> Community:
    async with client.app[SESSIONS].begin() as session:
        return await update_moderation_settings(
            session, client.app[URLS], community,
            ModerationSettings(community.posting_policy, modlog_names=on), now=datetime.now(UTC),
        )  # fmt: skip


async def test_the_log_names_the_coordinator_only_when_the_community_says_so(
    client: TestClient[Any, Any],
) -> None:
    sessions = client.app[SESSIONS]
    nightshift = await factories.create_community(sessions)
    await write(
        sessions, nightshift,
        (ModAction.HELD, POST, RULES, "not a follower of the community"),
        (ModAction.REJECTED, POST, ALICE, "Advertising"),
        (ModAction.BANNED, SAM, Moderator("ada", "admin"), "Spam, <b>again</b>"),
    )  # fmt: skip
    # names off (the default): roles only, in words, the newest first
    status, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert status == 200
    assert "<h1>Moderation log</h1>" in page
    said = [page.index(s) for s in ("An admin banned", "A coordinator rejected a post",
                                    "The community&#39;s rules held a post")]  # fmt: skip
    assert said == sorted(said)
    assert "alice" not in page
    assert "ada" not in page
    assert "Reason: Spam, &lt;b&gt;again&lt;/b&gt;" in page
    assert f'href="{POST}"' in page
    status, _, body = await get(client, "/c/nightshift/modlog", JSON_)
    assert [(i["action"], i["role"], "moderator" in i) for i in body["items"]] == [
        ("banned", "admin", False),
        ("rejected", "coordinator", False),
        ("held", "policy", False),
    ]
    # names on: shown on the page and in the JSON (a rule has no name)
    nightshift = await show_names(client, nightshift, True)
    _, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert "An admin (ada) banned" in page
    assert "A coordinator (alice) rejected a post" in page
    assert "The community&#39;s rules held a post" in page
    _, _, body = await get(client, "/c/nightshift/modlog", JSON_)
    assert [i.get("moderator") for i in body["items"]] == ["ada", "alice", None]
    # and gone again when turned off
    await show_names(client, nightshift, False)
    _, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert "alice" not in page


async def test_json_shape_and_pages_by_before(client: TestClient[Any, Any]) -> None:
    sessions = client.app[SESSIONS]
    nightshift = await factories.create_community(sessions)
    pharmacy = await factories.create_community(sessions, "pharmacy")
    await write(sessions, pharmacy, (ModAction.REMOVED, POST, ALICE, "elsewhere"))
    lines = [(ModAction.HELD, f"{POST}{n}", RULES, f"reason {n}") for n in range(120)]
    await write(sessions, nightshift, *lines)
    # curl's */* and a script's application/json get JSON
    for accept in ({"Accept": "*/*"}, JSON_):
        status, _, body = await get(client, "/c/nightshift/modlog", accept)
        assert status == 200
        assert set(body) == {"community", "items", "next"}
    assert body["community"] == "https://cop.test/c/nightshift"
    first = body["items"][0]
    assert set(first) == {"id", "action", "target", "reason", "role", "at"}
    assert (first["action"], first["target"], first["reason"], first["role"]) == (
        "held",
        f"{POST}119",
        "reason 119",
        "policy",
    )
    assert first["at"].endswith("Z")
    # fifty a page, the newest first, then older ones by ?before=ID
    seen: list[str] = []
    url: str | None = "https://cop.test/c/nightshift/modlog"
    while url is not None:
        assert url.startswith("https://cop.test/c/nightshift/modlog")
        _, _, body = await get(client, url.removeprefix("https://cop.test"), JSON_)
        assert len(body["items"]) == (50 if len(seen) < 100 else 20)
        seen += [item["reason"] for item in body["items"]]
        url = body["next"]
    assert seen == [f"reason {n}" for n in reversed(range(120))]  # no other community's
    # the page links the older ones the same way
    _, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert 'rel="next"' in page
    assert "?before=" in page
    _, page, _ = await get(client, f"/c/nightshift/modlog?before={first['id'] - 119}", HTML)
    assert "No older lines." in page


async def test_bad_input_and_unsafe_targets(client: TestClient[Any, Any]) -> None:
    sessions = client.app[SESSIONS]
    nightshift = await factories.create_community(sessions)
    await write(sessions, nightshift, (ModAction.REMOVED, "javascript:alert(1)", ALICE, ""))
    _, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert 'href="#"' in page
    assert 'href="javascript' not in page
    for before in ("x", "-1", "0", "99999999999", ""):
        status, _, body = await get(client, f"/c/nightshift/modlog?before={before}", JSON_)
        assert status == 400, before
        assert "before" in body["error"]
    status, _, _ = await get(client, "/c/nobody/modlog", JSON_)
    assert status == 404
    status, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert status == 200
    # the community page links its log
    _, page, _ = await get(client, "/c/nightshift", HTML)
    assert 'href="https://cop.test/c/nightshift/modlog">Moderation log</a>' in page


async def test_an_empty_log(client: TestClient[Any, Any]) -> None:
    await factories.create_community(client.app[SESSIONS])
    _, page, _ = await get(client, "/c/nightshift/modlog", HTML)
    assert "Nothing has been moderated here yet." in page
    _, _, body = await get(client, "/c/nightshift/modlog", JSON_)
    assert body == {"community": "https://cop.test/c/nightshift", "items": [], "next": None}
