"""The Discourse API client: waits out 429s as told, backs off on 5xx, names each error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.discourse.client import (
    BadCredentials,
    DiscourseClient,
    NotFound,
    Rejected,
    ServerError,
    Unreachable,
)
from federation.ssrf import AddressPolicy
from tests.discourse.harness import API_KEY, BOT, prepare_forum
from tests.fakes.discourse import FakeDiscourse
from tests.pg import free_port

OPEN = AddressPolicy(allow_private=True)


class Waits:
    """The client's sleep: records each wait, then really waits it (it is tiny)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(seconds)


def client_for(base_url: str, waits: Waits, key: str = API_KEY) -> DiscourseClient:
    return DiscourseClient(
        base_url, key, BOT, user_agent="copub-test", policy=OPEN, backoff_seconds=0.01, sleep=waits
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscourse]:
    async with FakeDiscourse() as forum:
        prepare_forum(forum)
        yield forum


async def test_429_waits_what_discourse_says(fake: FakeDiscourse) -> None:
    waits = Waits()
    fake.fail_next(429, wait_seconds=0.05)
    async with client_for(fake.base_url, waits) as client:
        data = await client.get("/categories.json")
    assert data["category_list"]["categories"][0]["slug"] == "night-shift"
    assert waits.seconds == [0.05]
    assert client.stats.rate_limited == 1
    assert [e.status for e in fake.exchanges] == [429, 200]
    assert fake.exchanges[0].answer["extras"]["wait_seconds"] == 0.05


async def test_parallel_waits_are_reported_as_the_wall_clock_time_waited(
    fake: FakeDiscourse,
) -> None:
    # Given four requests at once, each answered 429 "wait 0.3 s" first
    for _ in range(4):
        fake.fail_next(429, wait_seconds=0.3)
    waits = Waits()
    async with client_for(fake.base_url, waits) as client:
        await asyncio.gather(*(client.get("/categories.json") for _ in range(4)))
    # Then each waited, together: about 0.3 s of waiting, not the 1.2 s of their sum
    assert waits.seconds == [0.3] * 4
    assert client.stats.rate_limited == 4
    assert 0.3 <= client.stats.waited_seconds < 0.9


async def test_the_rate_limit_is_respected_not_hammered() -> None:
    async with FakeDiscourse(rate_limit=3, rate_window=0.3) as forum:
        prepare_forum(forum)
        waits = Waits()
        async with client_for(forum.base_url, waits) as client:
            for _ in range(7):
                await client.get("/categories.json")
        statuses = [e.status for e in forum.exchanges]
    assert statuses.count(200) == 7
    assert 1 <= statuses.count(429) <= 3  # each 429 is followed by a wait, not a retry storm
    assert all(0 < w <= 0.3 for w in waits.seconds)


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[list[web.Response]], str]]:
    """A server answering the given responses in order (then 200 {})."""
    answers: list[web.Response] = []
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.method)
        return answers.pop(0) if answers else web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    def script(responses: list[web.Response]) -> str:
        answers.extend(responses)
        return str(server.make_url("")).rstrip("/")

    yield script
    await server.close()


async def test_retry_after_is_honoured_without_extras(scripted: Callable[..., str]) -> None:
    base = scripted(
        [web.json_response({"errors": ["slow down"]}, status=429, headers={"Retry-After": "0"})]
    )
    waits = Waits()
    async with client_for(base, waits) as client:
        assert await client.get("/latest.json") == {}
    assert waits.seconds == [0.0]


async def test_5xx_backs_off_then_succeeds(scripted: Callable[..., str]) -> None:
    base = scripted([web.Response(status=502), web.Response(status=503)])
    waits = Waits()
    async with client_for(base, waits) as client:
        assert await client.get("/t/1.json") == {}
    assert waits.seconds == [0.01, 0.02]


async def test_a_post_is_not_retried_after_a_5xx(scripted: Callable[..., str]) -> None:
    base = scripted([web.Response(status=503)])
    async with client_for(base, Waits()) as client:
        with pytest.raises(ServerError):
            await client.post("/posts.json", {"topic_id": 1, "raw": "x" * 30})


async def test_errors_are_named(fake: FakeDiscourse) -> None:
    async with client_for(fake.base_url, Waits(), key="k-revoked") as client:
        with pytest.raises(BadCredentials) as bad:
            await client.get("/categories.json")
    assert bad.value.status == 403
    assert bad.value.error_type == "invalid_access"
    async with client_for(fake.base_url, Waits()) as client:
        with pytest.raises(NotFound):
            await client.get("/t/999.json")
        topic = fake.seed_topics(next(iter(fake.categories.values())), 1)[0]
        with pytest.raises(Rejected) as short:
            await client.post("/posts.json", {"topic_id": topic.id, "raw": "too short"})
    assert "Body is too short" in str(short.value)


async def test_unreachable_after_a_few_tries() -> None:
    waits = Waits()
    async with client_for(f"http://127.0.0.1:{free_port()}", waits) as client:
        with pytest.raises(Unreachable) as info:
            await client.get("/site/basic-info.json", auth=False)
    assert "cannot reach http://127.0.0.1:" in str(info.value)
    assert len(waits.seconds) == 3  # four attempts
