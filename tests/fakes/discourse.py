"""A fake Discourse forum for tests: the REST endpoints the adapter uses, Discourse's error
bodies, a per-key rate limit with 429s, and webhooks sent the way Discourse sends them.

``FakeDiscourse`` listens on 127.0.0.1 (``async with FakeDiscourse() as forum``). Build the
forum with ``add_user``, ``add_category``, ``add_key``; act in it with ``create_topic``,
``reply``, ``edit``, ``delete_post``, ``delete_topic``... (each sends its webhooks unless
``webhooks=False``); ``seed_topics`` fills a category fast, without webhooks.
``fail_next(429, wait_seconds=0.05)`` injects failures; ``rate_limit`` (requests per
``rate_window`` seconds, per key; None: off) is Discourse's ``max_admin_api_reqs_per_minute``.
Every exchange is kept in ``exchanges`` for the OpenAPI contract test.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes import discourse_shapes as shapes
from tests.fakes.discourse_hooks import WebhookSender
from tests.fakes.discourse_shapes import Category, Post, Topic, User
from tests.fakes.discourse_text import cook

BAD_KEY = ("You are not permitted to view the requested resource. "
           "The API username or key is invalid.")  # fmt: skip
NOT_PERMITTED = "You are not permitted to view the requested resource."
NOT_FOUND = "The requested URL or resource could not be found."
SCOPES = {  # (method, route name) -> the granular scope Discourse requires
    ("GET", "categories"): "categories:list",
    ("GET", "category"): "categories:show",
    ("GET", "category_topics"): "topics:read_lists",
    ("GET", "topic"): "topics:read",
    ("GET", "topic_posts"): "topics:read",
    ("GET", "post"): "posts:list",
    ("POST", "posts"): "topics:write",
    ("PUT", "post"): "posts:edit",
    ("DELETE", "post"): "posts:delete",
}


@dataclass
class Exchange:
    """One request to the fake and its answer (for the contract test)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    status: int
    answer: Any


@dataclass
class _Key:
    username: str | None  # None: all users
    scopes: frozenset[str] | None  # None: global


@dataclass
class FakeDiscourse:
    title: str = "Care Forum"
    rate_limit: int | None = None
    rate_window: float = 60.0
    rate_wait_seconds: float | None = None  # what a 429 says to wait (default: the window)
    per_page: int = 30
    chunk_size: int = 20
    min_post_length: int = 20
    users: dict[str, User] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    posts: dict[int, Post] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    keys: dict[str, _Key] = field(default_factory=dict)
    hooks: WebhookSender = field(default_factory=WebhookSender)
    _failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _clock: datetime = field(default_factory=lambda: datetime(2025, 1, 1, 9, 0, tzinfo=UTC))
    _ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _server: TestServer | None = None
    lose_answers: int = 0  # POSTs that are carried out but answered 504

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeDiscourse:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/site/basic-info.json", self._basic_info, name="basic_info")
        r.add_get("/categories.json", self._categories, name="categories")
        r.add_get("/c/{id:\\d+}/show.json", self._category, name="category")
        r.add_get("/c/{slug}/{id:\\d+}.json", self._category_topics, name="category_topics")
        r.add_get("/t/{id:\\d+}.json", self._topic, name="topic")
        r.add_get("/t/{id:\\d+}/posts.json", self._topic_posts, name="topic_posts")
        r.add_get("/posts/{id:\\d+}.json", self._post, name="post")
        r.add_post("/posts.json", self._create_post, name="posts")
        r.add_put("/posts/{id:\\d+}.json", self._edit_post, name="post_edit")
        r.add_delete("/posts/{id:\\d+}.json", self._delete_post, name="post_delete")
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self.hooks.instance = self.base_url
        await self.hooks.start()
        return self

    async def close(self) -> None:
        await self.hooks.close()
        if self._server is not None:
            await self._server.close()

    async def __aenter__(self) -> FakeDiscourse:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    # -- building the forum ---------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def now(self) -> str:
        self._clock += timedelta(seconds=7)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def add_user(self, username: str, name: str = "", *, admin: bool = False) -> User:
        user = User(self._next("user"), username, name, admin=admin)
        self.users[username.lower()] = user
        return user

    def add_category(self, slug: str, name: str, **options: Any) -> Category:
        category = Category(self._next("category") + 6, slug, name, **options)
        self.categories[category.id] = category
        return category

    def add_key(self, key: str, username: str | None, scopes: set[str] | None = None) -> None:
        self.keys[key] = _Key(username, frozenset(scopes) if scopes is not None else None)

    def fail_next(self, status: int, *, wait_seconds: float | None = None, after: int = 0) -> None:
        """Answer ``status`` to one request, ``after`` requests from now (429 carries
        ``extras.wait_seconds`` and ``Retry-After``)."""
        for _ in range(after):
            self._failures.append((0, {}))
        self._failures.append((status, {"wait_seconds": wait_seconds}))

    def recover(self) -> None:
        """The forum is back: failures not yet answered are dropped."""
        self._failures.clear()

    def live_posts(self, topic: Topic) -> list[Post]:
        return [self.posts[i] for i in topic.post_ids if self.posts[i].deleted_at is None]

    def _add_post(self, topic: Topic, user: User, raw: str, reply_to: int | None) -> Post:
        when = self.now()
        number = max((self.posts[i].post_number for i in topic.post_ids), default=0) + 1
        post = Post(self._next("post"), topic.id, number, user, raw, cook(raw), when, when,
                    reply_to_post_number=reply_to)  # fmt: skip
        self.posts[post.id] = post
        topic.post_ids.append(post.id)
        topic.bumped_at = when
        self.categories[topic.category_id].post_count += 1
        return post

    def _new_topic(
        self, title: str, raw: str, user: User, category: Category, tags: list[str]
    ) -> tuple[Topic, Post]:
        topic_id = self._next("topic") + 100
        slug = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())
        topic = Topic(topic_id, title, slug or "topic", category.id, user, self.now(), "",
                      tags=list(tags))  # fmt: skip
        self.topics[topic.id] = topic
        category.topic_count += 1
        return topic, self._add_post(topic, user, raw, None)

    def seed_topics(
        self, category: Category, count: int, *, posts: int = 1, long_every: int = 0,
        long_posts: int = 65,
    ) -> list[Topic]:  # fmt: skip
        """``count`` topics (every ``long_every``-th with ``long_posts`` posts), no webhooks."""
        authors = [self.users.get(n) or self.add_user(n, n.title()) for n in ("ann", "ben", "cy")]
        made = []
        for i in range(count):
            topic, _ = self._new_topic(f"Seeded topic number {i}", f"The story number {i}, "
                                       "told at length.", authors[i % 3], category, [])  # fmt: skip
            size = long_posts if long_every and i % long_every == 0 else posts
            for n in range(1, size):
                self._add_post(topic, authors[n % 3], f"Reply {n} to topic {i}, with words.", None)
            made.append(topic)
        return made

    # -- acting in the forum (sends webhooks) ---------------------------------------------

    async def create_topic(
        self, title: str, raw: str, *, user: User, category: Category,
        tags: tuple[str, ...] = (), webhooks: bool = True,
    ) -> Topic:  # fmt: skip
        topic, first = self._new_topic(title, raw, user, category, list(tags))
        if webhooks:
            await self._emit_topic("topic_created", topic)
            await self._emit_post("post_created", first)
        return topic

    async def reply(
        self, topic: Topic, raw: str, *, user: User, reply_to_post_number: int | None = None,
        webhooks: bool = True,
    ) -> Post:  # fmt: skip
        post = self._add_post(topic, user, raw, reply_to_post_number)
        if webhooks:
            await self._emit_post("post_created", post)
        return post

    async def edit(
        self, post: Post, raw: str, *, title: str | None = None, webhooks: bool = True
    ) -> Post:
        post.raw, post.cooked = raw, cook(raw)
        post.version += 1
        post.updated_at = self.now()
        topic = self.topics[post.topic_id]
        if title is not None:
            topic.title = title
        if webhooks:
            await self._emit_post("post_edited", post)
            if title is not None:
                await self._emit_topic("topic_edited", topic)
        return post

    async def delete_post(self, post: Post, *, webhooks: bool = True) -> None:
        post.deleted_at = self.now()
        if webhooks:
            await self._emit_post("post_destroyed", post)

    async def recover_post(self, post: Post, *, webhooks: bool = True) -> None:
        post.deleted_at = None
        if webhooks:
            await self._emit_post("post_recovered", post)

    async def delete_topic(self, topic: Topic, *, webhooks: bool = True) -> None:
        topic.deleted_at = self.now()
        self.categories[topic.category_id].topic_count -= 1
        if webhooks:
            await self._emit_topic("topic_destroyed", topic)

    async def _emit_post(self, event: str, post: Post) -> None:
        topic = self.topics[post.topic_id]
        body = shapes.webhook_post(post, topic, self.categories[topic.category_id])
        await self.hooks.emit("post", event, body)

    async def _emit_topic(self, event: str, topic: Topic) -> None:
        body = shapes.webhook_topic(topic, self.live_posts(topic))
        await self.hooks.emit("topic", event, body)

    # -- the HTTP side --------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body_text = await request.text()
        route = request.match_info.route.name or ""
        response = await self._gate(request, route) or await handler(request)
        if self.lose_answers and request.method == "POST" and response.status == 200:
            self.lose_answers -= 1  # done, but the answer is lost on the way (a proxy timeout)
            response = web.json_response(shapes.error_body(["Gateway Timeout"], None), status=504)
        assert isinstance(response, web.Response)
        answer = json.loads(response.text) if response.text else None
        self.exchanges.append(
            Exchange(
                request.method,
                request.path,
                list(request.query.items()),
                dict(request.headers),
                json.loads(body_text) if body_text else None,
                response.status,
                answer,
            )  # fmt: skip
        )
        return response

    async def _gate(self, request: web.Request, route: str) -> web.Response | None:
        """Injected failures, the rate limit and the key check, in Discourse's order."""
        if self._failures:
            status, extras = self._failures.popleft()
            if status == 429:
                return self._rate_limited(extras["wait_seconds"] or 1)
            if status:
                return web.json_response(shapes.error_body(["Oops"], None), status=status)
        if route == "basic_info" and "Api-Key" not in request.headers:
            return None
        key = self.keys.get(request.headers.get("Api-Key", ""))
        username = request.headers.get("Api-Username", "")
        if key is None or (key.username is not None and key.username.lower() != username.lower()):
            return _error(403, BAD_KEY, "invalid_access")
        if username.lower() not in self.users:
            return _error(403, BAD_KEY, "invalid_access")
        if self.rate_limit is not None:
            recent = self._recent[request.headers["Api-Key"]]
            now = time.monotonic()
            while recent and recent[0] <= now - self.rate_window:
                recent.popleft()
            if len(recent) >= self.rate_limit:
                wait = self.rate_wait_seconds or (recent[0] + self.rate_window - now)
                return self._rate_limited(wait)
            recent.append(now)
        scope = SCOPES.get((request.method, route.replace("_edit", "").replace("_delete", "")))
        if key.scopes is not None and scope not in key.scopes:
            return _error(403, NOT_PERMITTED, "invalid_access")
        return None

    def _rate_limited(self, wait: float) -> web.Response:
        seconds = math.ceil(wait)
        body = shapes.error_body(
            [f"You’ve performed this action too many times. Please wait {seconds} seconds "
             "before trying again."], "rate_limit", wait_seconds=wait,
            time_left=f"{seconds} seconds",
        )  # fmt: skip
        return web.json_response(body, status=429, headers={"Retry-After": str(seconds)})

    def _bot(self, request: web.Request) -> User:
        return self.users[request.headers["Api-Username"].lower()]

    def _visible(self, category: Category | None) -> bool:
        return category is not None and (category.permission is not None or
                                         not category.read_restricted)  # fmt: skip

    def _topic_or_404(self, request: web.Request) -> Topic:
        topic = self.topics.get(int(request.match_info["id"]))
        bot = self._bot(request)
        if (
            topic is None
            or not self._visible(self.categories.get(topic.category_id))
            or (topic.deleted_at and not bot.admin)
        ):
            raise _NotFound()
        return topic

    async def _basic_info(self, _request: web.Request) -> web.Response:
        return web.json_response(shapes.basic_info(self.title))

    async def _categories(self, _request: web.Request) -> web.Response:
        shown = [c for c in self.categories.values() if self._visible(c)]
        return web.json_response(shapes.category_list(shown))

    async def _category(self, request: web.Request) -> web.Response:
        category = self.categories.get(int(request.match_info["id"]))
        if not self._visible(category):
            return _error(404, NOT_FOUND, "not_found")
        assert category is not None
        return web.json_response(shapes.category_show(category))

    async def _category_topics(self, request: web.Request) -> web.Response:
        category = self.categories.get(int(request.match_info["id"]))
        if not self._visible(category):
            return _error(404, NOT_FOUND, "not_found")
        assert category is not None
        page = int(request.query.get("page", "0"))
        listed = sorted(
            (t for t in self.topics.values() if t.category_id == category.id and not t.deleted_at),
            key=lambda t: (t.bumped_at, t.id),
            reverse=True,
        )
        chunk = listed[page * self.per_page : (page + 1) * self.per_page]
        more = (page + 1) * self.per_page < len(listed)
        more_url = f"/c/{category.slug}/{category.id}/l/latest?page={page + 1}" if more else None
        items = [shapes.topic_in_list(t, self.live_posts(t), {}) for t in chunk]
        users = list({t.user.id: t.user for t in chunk}.values())
        return web.json_response(shapes.topic_list(items, users, more_url=more_url))

    async def _topic(self, request: web.Request) -> web.Response:
        try:
            topic = self._topic_or_404(request)
        except _NotFound:
            return _error(404, NOT_FOUND, "not_found")
        posts = self.live_posts(topic)
        return web.json_response(shapes.topic_view(topic, posts[: self.chunk_size], posts))

    async def _topic_posts(self, request: web.Request) -> web.Response:
        try:
            topic = self._topic_or_404(request)
        except _NotFound:
            return _error(404, NOT_FOUND, "not_found")
        wanted = {int(v) for v in request.query.getall("post_ids[]", [])}
        posts = [p for p in self.live_posts(topic) if p.id in wanted]
        body = {"post_stream": {"posts": [shapes.post_in_topic(p, topic) for p in posts]},
                "id": topic.id}  # fmt: skip
        return web.json_response(body)

    async def _post(self, request: web.Request) -> web.Response:
        post = self.posts.get(int(request.match_info["id"]))
        if post is None or (post.deleted_at and not self._bot(request).admin):
            return _error(404, NOT_FOUND, "not_found")
        return web.json_response(shapes.post_single(post, self.topics[post.topic_id], ""))

    async def _create_post(self, request: web.Request) -> web.Response:
        data = await request.json()
        raw = str(data.get("raw") or "")
        topic = self.topics.get(int(data.get("topic_id") or 0))
        if topic is None or topic.deleted_at:
            return _error(404, NOT_FOUND, "not_found")
        if self.categories[topic.category_id].permission not in (1, 2):
            return _error(403, NOT_PERMITTED, "invalid_access")
        if len(raw.strip()) < self.min_post_length:
            body = {
                "action": "create_post",
                "errors": [f"Body is too short (minimum is {self.min_post_length} characters)"],
            }
            return web.json_response(body, status=422)
        post = self._add_post(topic, self._bot(request), raw, data.get("reply_to_post_number"))
        await self._emit_post("post_created", post)  # what Discourse would send: the echo
        return web.json_response(shapes.post_written(post, topic))

    async def _edit_post(self, request: web.Request) -> web.Response:
        post = self.posts.get(int(request.match_info["id"]))
        if post is None or post.deleted_at:
            return _error(404, NOT_FOUND, "not_found")
        data = await request.json()
        await self.edit(post, str(data["post"]["raw"]))
        return web.json_response(shapes.post_updated(post, self.topics[post.topic_id]))

    async def _delete_post(self, request: web.Request) -> web.Response:
        post = self.posts.get(int(request.match_info["id"]))
        if post is None or post.deleted_at:
            return _error(404, NOT_FOUND, "not_found")
        await self.delete_post(post)
        return web.Response(status=200)


class _NotFound(Exception):
    pass


def _error(status: int, message: str, error_type: str) -> web.Response:
    return web.json_response(shapes.error_body([message], error_type), status=status)
