"""A fake Discourse forum for tests: the REST endpoints the adapter uses, Discourse's error
bodies, a per-key rate limit with 429s, and webhooks sent the way Discourse sends them.

``FakeDiscourse`` listens on 127.0.0.1 (``async with FakeDiscourse() as forum``). Build the
forum with ``add_user``, ``add_category``, ``add_key``; act in it with ``create_topic``,
``reply``, ``edit``, ``move_topic``, ``delete_post`` (a moderator's), ``delete_own_post``
(an author's), ``delete_topic``... (each sends its webhooks unless
``webhooks=False``); ``seed_topics`` fills a category fast, without webhooks.
``fail_next(429, wait_seconds=0.05)`` injects failures; ``rate_limit`` (requests per
``rate_window`` seconds, per key) is Discourse's ``max_admin_api_reqs_per_minute``: 60 a
minute unless a test turns it off (``rate_limit=None``) to go faster than a real forum.
Every exchange is kept in ``exchanges`` for the OpenAPI contract test.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestServer

from tests.fakes import discourse_shapes as shapes
from tests.fakes.discourse_hooks import WebhookSender
from tests.fakes.discourse_http import Exchange, ForumHttp, Key
from tests.fakes.discourse_shapes import Category, Post, Topic, User
from tests.fakes.discourse_text import cook


@dataclass
class FakeDiscourse(ForumHttp):
    title: str = "Care Forum"
    rate_limit: int | None = 60  # Discourse's max_admin_api_reqs_per_minute; None: off
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
    keys: dict[str, Key] = field(default_factory=dict)
    hooks: WebhookSender = field(default_factory=WebhookSender)
    _failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _clock: datetime = field(default_factory=lambda: datetime(2025, 1, 1, 9, 0, tzinfo=UTC))
    _ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _server: TestServer | None = None
    lose_answers: int = 0  # POSTs that are carried out but answered 504

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeDiscourse:
        app = self.app()
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

    def add_category(
        self, slug: str, name: str, *, about: bool = False, **options: Any
    ) -> Category:
        """A category; ``about``: with its "About the ... category" topic, as Discourse makes."""
        category = Category(self._next("category") + 6, slug, name, **options)
        self.categories[category.id] = category
        if about:
            owner = next(iter(self.users.values()))
            topic, _ = self._new_topic(
                f"About the {name} category",
                f"What {name} is for, and its guidelines.",
                owner,
                category,
                [],
            )
            category.about_topic_id = topic.id
        return category

    def add_key(self, key: str, username: str | None, scopes: set[str] | None = None) -> None:
        self.keys[key] = Key(username, frozenset(scopes) if scopes is not None else None)

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
        post = Post(
            self._next("post"),
            topic.id,
            number,
            user,
            raw,
            cook(raw),
            when,
            when,
            reply_to_post_number=reply_to,
        )
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
        topic = Topic(
            topic_id, title, slug or "topic", category.id, user, self.now(), "", tags=list(tags)
        )
        self.topics[topic.id] = topic
        category.topic_count += 1
        return topic, self._add_post(topic, user, raw, None)

    def seed_topics(
        self,
        category: Category,
        count: int,
        *,
        posts: int = 1,
        long_every: int = 0,
        long_posts: int = 65,
    ) -> list[Topic]:
        """``count`` topics (every ``long_every``-th with ``long_posts`` posts), no webhooks."""
        authors = [self.users.get(n) or self.add_user(n, n.title()) for n in ("ann", "ben", "cy")]
        made = []
        for i in range(count):
            topic, _ = self._new_topic(
                f"Seeded topic number {i}",
                f"The story number {i}, told at length.",
                authors[i % 3],
                category,
                [],
            )
            size = long_posts if long_every and i % long_every == 0 else posts
            for n in range(1, size):
                self._add_post(topic, authors[n % 3], f"Reply {n} to topic {i}, with words.", None)
            made.append(topic)
        return made

    # -- acting in the forum (sends webhooks) ---------------------------------------------

    async def create_topic(
        self,
        title: str,
        raw: str,
        *,
        user: User,
        category: Category,
        tags: tuple[str, ...] = (),
        webhooks: bool = True,
    ) -> Topic:
        topic, first = self._new_topic(title, raw, user, category, list(tags))
        if webhooks:
            await self._emit_topic("topic_created", topic)
            await self._emit_post("post_created", first)
        return topic

    async def reply(
        self,
        topic: Topic,
        raw: str,
        *,
        user: User,
        reply_to_post_number: int | None = None,
        webhooks: bool = True,
    ) -> Post:
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

    async def move_topic(self, topic: Topic, category: Category, *, webhooks: bool = True) -> None:
        self.categories[topic.category_id].topic_count -= 1
        topic.category_id = category.id
        category.topic_count += 1
        if webhooks:
            await self._emit_topic("topic_edited", topic)

    async def delete_post(self, post: Post, *, webhooks: bool = True) -> None:
        post.deleted_at = self.now()
        if webhooks:
            await self._emit_post("post_destroyed", post)

    async def delete_own_post(self, post: Post, *, webhooks: bool = True) -> None:
        """The author deletes their own post, as Discourse's PostDestroyer does for a
        non-staff author: the post stays (``deleted_at`` empty, removed for good a day
        later), revised to "(post deleted by author)" ("(topic deleted by author)" for a
        first post) as a new version, then marked ``user_deleted``. Webhooks, in Discourse's
        order: ``post_edited`` from the revision (before ``user_deleted`` is set), then
        ``post_destroyed`` with the payload taken before anything changed (and
        ``topic_destroyed`` for a first post)."""
        topic = self.topics[post.topic_id]
        category = self.categories[topic.category_id]
        destroyed = shapes.webhook_post(post, topic, category)
        first = post.post_number == 1
        topic_destroyed = shapes.webhook_topic(topic, self.live_posts(topic))
        text = "(topic deleted by author)" if first else "(post deleted by author)"
        post.raw, post.cooked = text, cook(text)
        post.version += 1
        post.updated_at = self.now()
        if webhooks:
            await self._emit_post("post_edited", post)
        post.user_deleted = True
        if webhooks:
            await self.hooks.emit("post", "post_destroyed", destroyed)
            if first:
                await self.hooks.emit("topic", "topic_destroyed", topic_destroyed)

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
