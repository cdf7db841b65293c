"""The calls the adapter makes, each returning wire values (adapters/discourse/wire.py).

Reads: the category (``/c/{id}/show.json``, or ``/categories.json`` to find a slug), its
topic listing (``/c/{slug}/{id}.json?page=N``), a topic (``/t/{id}.json`` then, for long
topics, the rest of ``post_stream.stream`` through ``/t/{id}/posts.json?post_ids[]=...``),
a post (``/posts/{id}.json``). Writes: ``POST /posts.json``, ``PUT``/``DELETE
/posts/{id}.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from adapters.discourse.client import DiscourseClient, NotFound
from adapters.discourse.config import ForumConfig
from adapters.discourse.wire import (
    ForumPost,
    ForumTopic,
    TopicPage,
    WireError,
    page_of,
    post_of,
    posts_of,
    topic_of,
)

CHUNK = 20  # posts per /t/{id}/posts.json request, as Discourse's own chunk_size


@dataclass(frozen=True)
class Category:
    id: int
    slug: str
    name: str
    topic_count: int
    permission: int | None  # 1 full, 2 create posts, 3 read only; None: may not post
    read_restricted: bool
    about_topic_id: int | None = None  # "About the ... category": its description, not news

    @property
    def can_reply(self) -> bool:
        return self.permission in (1, 2)


def _category_of(data: Any) -> Category:
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise WireError("a category must have an id")
    permission = data.get("permission")
    about = re.search(r"/(\d+)/?$", str(data.get("topic_url") or ""))
    return Category(
        id=data["id"],
        slug=str(data.get("slug") or ""),
        name=str(data.get("name") or ""),
        topic_count=int(data.get("topic_count") or 0),
        permission=permission if isinstance(permission, int) else None,
        read_restricted=bool(data.get("read_restricted")),
        about_topic_id=int(about.group(1)) if about else None,
    )


class UnknownCategory(NotFound):
    """The configured category cannot be resolved: no category has that id or slug, or the
    bot may not see it. Nothing is published until it can be (retried: an admin may add the
    bot to a group that sees the category)."""

    retryable = True


class ForumApi:
    def __init__(self, forum: ForumConfig, client: DiscourseClient) -> None:
        self.forum = forum
        self.client = client
        self._category: Category | None = None

    async def site_title(self) -> str:
        data = await self.client.get("/site/basic-info.json", auth=False)
        if not isinstance(data, dict) or "title" not in data:
            raise WireError("/site/basic-info.json has no title: is this a Discourse forum?")
        return str(data["title"])

    async def categories(self) -> list[Category]:
        data = await self.client.get("/categories.json")
        listed = (
            (data.get("category_list") or {}).get("categories") if isinstance(data, dict) else None
        )
        if not isinstance(listed, list):
            raise WireError("/categories.json has no category_list.categories")
        return [_category_of(c) for c in listed]

    async def category(self) -> Category:
        """The configured category (by id, or its slug looked up in /categories.json),
        resolved once: every scope check compares with its id, never with "any"."""
        if self._category is not None:
            return self._category
        category_id = self.forum.category_id
        unknown = (
            f"category {self.forum.category!r} is not on {self.forum.base_url}, or "
            f"{self.forum.api_username!r} may not see it: nothing is published until it is "
            f"(run `copub discourse check {self.forum.community}`)"
        )
        if category_id is None:
            wanted = self.forum.category.lower()
            found = [c for c in await self.categories() if c.slug.lower() == wanted]
            if not found:
                raise UnknownCategory(unknown, status=404)
            category_id = found[0].id
        try:
            data = await self.client.get(f"/c/{category_id}/show.json")
        except NotFound as exc:
            raise UnknownCategory(unknown, status=404) from exc
        self._category = _category_of(data.get("category") if isinstance(data, dict) else None)
        return self._category

    async def page(self, number: int) -> TopicPage:
        category = await self.category()
        params = [("page", number)] if number else []
        return page_of(await self.client.get(f"/c/{category.slug}/{category.id}.json", params))

    async def topic(self, topic_id: int) -> tuple[ForumTopic, list[ForumPost]]:
        """A topic with all its posts, in stream order."""
        topic = topic_of(await self.client.get(f"/t/{topic_id}.json"))
        posts = {p.id: p for p in topic.posts}
        missing = [i for i in topic.stream if i not in posts]
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            params = [("post_ids[]", i) for i in chunk]
            for post in posts_of(await self.client.get(f"/t/{topic_id}/posts.json", params)):
                posts[post.id] = post
        ordered = [posts[i] for i in topic.stream if i in posts]
        return topic, ordered

    async def tail(self, topic_id: int) -> list[ForumPost]:
        """The last posts of a topic (to find a reply we may already have written)."""
        topic = topic_of(await self.client.get(f"/t/{topic_id}.json"))
        last = list(topic.stream[-CHUNK:])
        known = {p.id: p for p in topic.posts}
        wanted = [i for i in last if i not in known]
        if wanted:
            params = [("post_ids[]", i) for i in wanted]
            for post in posts_of(await self.client.get(f"/t/{topic_id}/posts.json", params)):
                known[post.id] = post
        return [known[i] for i in last if i in known]

    async def post(self, post_id: int) -> ForumPost:
        return post_of(await self.client.get(f"/posts/{post_id}.json"))

    async def create_post(
        self, topic_id: int, raw: str, reply_to_post_number: int | None
    ) -> ForumPost:
        body: dict[str, Any] = {"topic_id": topic_id, "raw": raw}
        if reply_to_post_number is not None:
            body["reply_to_post_number"] = reply_to_post_number
        return post_of(await self.client.post("/posts.json", body))

    async def edit_post(self, post_id: int, raw: str, reason: str) -> ForumPost:
        data = await self.client.put(
            f"/posts/{post_id}.json", {"post": {"raw": raw, "edit_reason": reason}}
        )
        return post_of(data.get("post") if isinstance(data, dict) else None)

    async def delete_post(self, post_id: int) -> None:
        await self.client.delete(f"/posts/{post_id}.json")
