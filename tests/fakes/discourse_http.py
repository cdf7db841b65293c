"""The HTTP side of the fake Discourse: its endpoints, Discourse's error bodies, the
per-key rate limit with 429s, and a record of every exchange (for the contract test)."""

from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes import discourse_shapes as shapes
from tests.fakes.discourse_shapes import Category, Post, Topic, User

BAD_KEY = (
    "You are not permitted to view the requested resource. The API username or key is invalid."
)
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
class Key:
    username: str | None  # None: all users
    scopes: frozenset[str] | None  # None: global


class ForumHttp:
    """Mixed into ``FakeDiscourse``, whose state (declared here) and actions (``live_posts``,
    ``edit``, ``delete_post``, ``_add_post``, ``_emit_post``) it serves."""

    users: dict[str, User]
    categories: dict[int, Category]
    topics: dict[int, Topic]
    posts: dict[int, Post]
    keys: dict[str, Key]
    exchanges: list[Exchange]
    rate_limit: int | None
    rate_window: float
    rate_wait_seconds: float | None
    per_page: int
    chunk_size: int
    min_post_length: int
    title: str
    lose_answers: int
    _failures: deque[tuple[int, dict[str, Any]]]
    _recent: dict[str, deque[float]]

    def app(self) -> web.Application:
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
        return app

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
        body = json.loads(body_text) if body_text else None
        query = list(request.query.items())
        self.exchanges.append(
            Exchange(
                request.method,
                request.path,
                query,
                dict(request.headers),
                body,
                response.status,
                answer,
            )
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
        message = (
            f"You’ve performed this action too many times. Please wait {seconds} "  # noqa: RUF001
            "seconds before trying again."
        )
        body = shapes.error_body(
            [message], "rate_limit", wait_seconds=wait, time_left=f"{seconds} seconds"
        )
        return web.json_response(body, status=429, headers={"Retry-After": str(seconds)})

    def _bot(self, request: web.Request) -> User:
        return self.users[request.headers["Api-Username"].lower()]

    def _visible(self, category: Category | None) -> bool:
        return category is not None and (
            category.permission is not None or not category.read_restricted
        )

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
        body = {
            "post_stream": {"posts": [shapes.post_in_topic(p, topic) for p in posts]},
            "id": topic.id,
        }
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
