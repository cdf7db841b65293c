"""A thread's page: the conversation nested, each post with its author and their server,
and "Reply from your server" (the follow form's remote interaction, for a post)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from actors.community import Community
from actors.store.models import ObjectRow
from actors.web.keys import SESSIONS
from federation.errors import FetchError
from tests import factories
from tests.actors.test_pages import SUBSCRIBE, FakeLookup, Page, get_page
from tests.pages.builders import Sessions, actor_url, add_post, add_remote_actor, add_story


def path_of(url: str) -> str:
    return url.removeprefix("https://cop.test")


async def reply(db: Sessions, community: Community, actor: str, html: str, to: ObjectRow,
                root: ObjectRow) -> ObjectRow:  # fmt: skip
    row = await add_post(db, community, actor, html=html, reply_to=to.ap_id)
    async with db.begin() as session:
        await session.execute(
            update(ObjectRow).where(ObjectRow.id == row.id).values(thread_root=root.ap_id)
        )
    row.thread_root = root.ap_id
    return row


async def conversation(db: Sessions, community: Community) -> dict[str, ObjectRow]:
    """A story; alice answers it, bob (elsewhere) answers alice, carol answers the story."""
    alice, bob = actor_url("alice"), actor_url("bob", "other.example")
    carol = actor_url("carol", "third.example")
    await add_remote_actor(db, alice, name="Alice", handle="alice@social.example")
    await add_remote_actor(db, bob, name="Bob", handle="bob@other.example")
    story = await add_story(db, community, "Handover", "What we checked twice.")
    first = await reply(db, community, alice, "<p>And thrice.</p>", story, story)
    second = await reply(db, community, bob, "<p>Why thrice?</p>", first, story)
    third = await reply(db, community, carol, "<p>Once is enough.</p>", story, story)
    return {"story": story, "alice": first, "bob": second, "carol": third}


async def test_the_conversation_is_nested_with_authors_and_servers(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    posts = await conversation(db, nightshift)
    page, html = await get_page(client, path_of(posts["story"].ap_id))
    assert "Conversation (3)" in page.text
    # bob's answer is inside alice's post's list item, carol's after it at the top level
    alice_at, bob_at, carol_at = (html.index(t) for t in ("And thrice.", "Why thrice?", "Once is"))
    assert alice_at < bob_at < carol_at
    between = html[alice_at:bob_at]
    assert '<ol class="thread">' in between
    assert "</li>" not in between
    assert "</li>" in html[bob_at:carol_at]
    # each author by name or address, with their server
    assert "@alice@social.example" in page.text
    assert "@bob@other.example" in page.text
    for server in ("social.example", "other.example", "third.example"):
        assert server in page.text
    # a reply form for each post, and one for the story
    uris = [f["value"] for f in page.find("input", name="uri")]
    assert uris == [posts[k].ap_id for k in ("alice", "bob", "carol", "story")]


async def test_reply_from_your_server_opens_the_post_there(make_client: Any) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    db = client.app[SESSIONS]
    posts = await conversation(db, await factories.create_community(db))
    target = posts["bob"].ap_id
    response = await client.post(
        path_of(posts["story"].ap_id) + "/reply",
        data={"account": "@me@home.example", "uri": target},
        allow_redirects=False,
    )
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == SUBSCRIBE.split("?", 1)[0]
    assert parse_qs(location.query) == {"uri": [target]}
    assert lookup.accounts == ["me@home.example"]


@pytest.mark.parametrize("uri", ["https://elsewhere.example/users/x/statuses/1", "javascript:x"])
async def test_reply_only_to_a_post_of_the_conversation(make_client: Any, uri: str) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    db = client.app[SESSIONS]
    posts = await conversation(db, await factories.create_community(db))
    response = await client.post(
        path_of(posts["story"].ap_id) + "/reply",
        data={"account": "me@home.example", "uri": uri},
        allow_redirects=False,
    )
    assert response.status == 404
    assert lookup.accounts == []


@pytest.mark.parametrize(
    ("account", "error", "message"),
    [
        ("me", None, "Enter your account as you@your.server."),
        ("me@home.example", FetchError("home.example did not answer"), "did not answer"),
    ],
)
async def test_reply_form_errors_show_on_the_page(
    make_client: Any, account: str, error: Exception | None, message: str
) -> None:
    client = await make_client(subscribe_lookup=FakeLookup(error))
    db = client.app[SESSIONS]
    posts = await conversation(db, await factories.create_community(db))
    response = await client.post(
        path_of(posts["story"].ap_id) + "/reply", data={"account": account}, allow_redirects=False
    )
    assert response.status == 400
    page = Page(await response.text())
    assert any(message in t for t in page.text)
    assert "Conversation (3)" in page.text


async def test_a_members_post_has_a_page_with_its_conversation(make_client: Any) -> None:
    lookup = FakeLookup()
    client = await make_client(subscribe_lookup=lookup)
    db = client.app[SESSIONS]
    community = await factories.create_community(db)
    alice, bob = actor_url("alice"), actor_url("bob", "other.example")
    await add_remote_actor(db, alice, name="Alice", handle="alice@social.example")
    post = await add_post(db, community, alice, html="<p>Night snacks?</p>")
    answer = await reply(db, community, bob, "<p>Apples.</p>", post, post)
    # the community page links to the post's conversation here
    page, _html = await get_page(client, "/c/nightshift")
    [link] = [a["href"] for a in page.find("a") if "/thread?" in a.get("href", "")]
    assert parse_qs(urlsplit(link).query) == {"post": [post.ap_id]}
    # which shows the post by its author and bob's answer under it
    page, _html = await get_page(client, path_of(link))
    assert "Night snacks?" in page.text
    assert "Apples." in page.text
    assert "Conversation (1)" in page.text
    # and Reply from your server works there too
    response = await client.post(
        path_of(link).replace("/thread?", "/thread/reply?"),
        data={"account": "me@home.example", "uri": answer.ap_id},
        allow_redirects=False,
    )
    assert response.status == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"uri": [answer.ap_id]}


@pytest.mark.parametrize("post", ["https://social.example/nothing", "x", "", "STORY"])
async def test_only_a_members_post_has_a_thread_page(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community, post: str
) -> None:
    story = await add_story(db, nightshift, "Ours", "Served at its id.")
    post = story.ap_id if post == "STORY" else post
    await get_page(client, f"/c/nightshift/thread?post={quote(post, safe='')}", status=404)
