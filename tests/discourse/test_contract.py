"""The OpenAPI contract: every request the adapter sends and every answer the fake gives,
in a session that uses every endpoint, match Discourse's published API document."""

from __future__ import annotations

import copy

import pytest

from tests.discourse import contract
from tests.discourse.harness import SLUG, jobs_settled
from tests.discourse.test_fediverse_replies import bot_posts, until_bot_posts
from tests.fakes.discourse import Exchange, FakeDiscourse
from tests.fakes.discourse_shapes import Category, User
from tests.flows.copub import Copub, sqlite_only, wait_until
from tests.flows.remote import Person, RemoteServer

ENDPOINTS = {
    ("GET", "/site/basic-info.json"),
    ("GET", "/categories.json"),
    ("GET", "/c/{id}/show.json"),
    ("GET", "/c/{slug}/{id}.json"),
    ("GET", "/t/{id}.json"),
    ("GET", "/t/{id}/posts.json"),
    ("GET", "/posts/{id}.json"),
    ("POST", "/posts.json"),
    ("PUT", "/posts/{id}.json"),
    ("DELETE", "/posts/{id}.json"),
}


@sqlite_only
async def test_every_exchange_matches_the_openapi_document(
    copub: Copub,
    forum: FakeDiscourse,
    category: Category,
    nora: User,
    remote: RemoteServer,
    follower: Person,
) -> None:
    forum.rate_limit = None
    # A session that uses every endpoint the adapter knows, errors included
    forum.seed_topics(category, 35, posts=2, long_every=20, long_posts=45)
    await copub.cli("discourse", "check", SLUG)
    forum.fail_next(429, wait_seconds=0.01, after=5)
    await copub.cli("discourse", "sync", SLUG)
    topic = await forum.create_topic(
        "Contract",
        "A topic to exercise every endpoint.",
        user=nora,
        category=category,
        tags=("practice",),
    )
    reply = await forum.reply(topic, "A reply that will be deleted soon.", user=nora)
    await forum.delete_post(reply)
    await forum.hooks.settle()
    await jobs_settled(copub)
    [create] = await remote.wait_for(
        lambda got: [
            d
            for d in got
            if d.ok and d.type == "Create" and d.activity["object"].get("name") == "Contract"
        ]
    )
    note = remote.note(
        follower,
        "A fediverse reply for the contract test.",
        in_reply_to=create.activity["object"]["id"],
    )
    await remote.send_create(follower, copub.inbox(SLUG), note)
    [post] = await until_bot_posts(forum, topic)
    await remote.send_update(follower, copub.inbox(SLUG), note, "Edited for the contract test.")
    await wait_until(_async(lambda: post.version == 2), 15, "the edit")
    await forum.delete_post(post, webhooks=False)  # a moderator was quicker: DELETE gets 404
    await remote.send_delete(follower, copub.inbox(SLUG), note)
    await wait_until(
        _async(lambda: any(e.method == "DELETE" for e in forum.exchanges)), 15, "the delete"
    )
    await copub.cli("discourse", "sync", SLUG, "--full")
    assert len(bot_posts(forum, topic)) == 1
    # Every endpoint was used
    used = {
        (e.method, contract.operation_of(e.method, e.path)[0].template) for e in forum.exchanges
    }
    assert used == ENDPOINTS
    assert {e.status for e in forum.exchanges} >= {200, 404, 429}
    # And every request and every answer conforms
    problems = [p for e in forum.exchanges for p in contract.check_request(e)]
    problems += [p for e in forum.exchanges for p in contract.check_answer(e)]
    assert problems == [], "\n".join(problems[:20])


def _async(check: object) -> object:
    async def run() -> bool:
        return bool(check())  # type: ignore[operator]

    return run


def _exchange(method: str, path: str, body: object = None, answer: object = None) -> Exchange:
    headers = {"Api-Key": "k", "Api-Username": "bot"}
    return Exchange(method, path, [], headers, body, 200, answer)


@pytest.mark.parametrize(
    ("exchange", "problem"),
    [
        (_exchange("POST", "/posts.json", {"topic_id": "7", "raw": "x"}), "topic_id"),
        (_exchange("POST", "/posts.json", {"topic_id": 7}), "'raw' is a required property"),
        (_exchange("PUT", "/posts/5.json", {"raw": "x"}), "Additional properties"),
        (_exchange("DELETE", "/posts/abc.json"), "path id"),
        (_exchange("GET", "/latest.jsn"), "not an operation"),
    ],
)
def test_the_contract_check_is_not_blind(exchange: Exchange, problem: str) -> None:
    try:
        problems = contract.check_request(exchange)
    except AssertionError as exc:
        problems = [str(exc)]
    assert any(problem in p for p in problems), problems


def test_a_wrong_answer_is_caught() -> None:
    answer = {"category": {"id": 7}}
    problems = contract.check_answer(_exchange("GET", "/c/7/show.json", answer=answer))
    assert any("'name' is a required property" in p for p in problems)
    good = {"errors": ["Not found"], "error_type": "not_found"}
    bad = copy.deepcopy(good)
    del bad["errors"]
    for body, ok in ((good, True), (bad, False)):
        exchange = Exchange("GET", "/t/1.json", [], {}, None, 404, body)
        assert (contract.check_answer(exchange) == []) is ok
