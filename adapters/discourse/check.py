"""``copub discourse check SLUG``: is the connection ready, and if not, exactly why.

Each step uses what the one before proved: the host answers as a Discourse forum, the key
and username are accepted, the category exists and the bot may see and reply in it, the key
may read its listing and topics. The first failure stops the check (the rest would only
repeat it). Writes cannot be tried without writing; the report says which scopes they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.discourse.client import (
    AddressRefused,
    BadCredentials,
    DiscourseError,
    Forbidden,
    NotFound,
    Unreachable,
)
from adapters.discourse.runtime import ForumRuntime, NoCommunity
from adapters.discourse.wire import WireError


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str


class _Stop(Exception):
    pass


class _Report:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def ok(self, message: str) -> None:
        self.findings.append(Finding(True, message))

    def fail(self, message: str) -> _Stop:
        self.findings.append(Finding(False, message))
        return _Stop()


async def check(runtime: ForumRuntime, server_base_url: str) -> list[Finding]:
    report = _Report()
    ok, fail = report.ok, report.fail
    forum = runtime.forum
    try:
        try:
            await runtime.community()
            ok(f"community {forum.community!r} exists")
        except NoCommunity as exc:
            raise fail(str(exc)) from exc
        await _reach(runtime, report)
        await _credentials(runtime, report)
        await _category(runtime, report)
        ok(
            "writes (replies from the fediverse) need the key's scopes 'topics: write' and "
            "'posts: edit, delete' (or a global key); they cannot be tried without posting"
        )
        ok(
            f"webhook: {server_base_url}{runtime.webhook_path()} with content type "
            "application/json, the configured secret, events 'Topic Event' and 'Post Event'"
        )
    except _Stop:
        pass
    return report.findings


async def _reach(runtime: ForumRuntime, report: _Report) -> None:
    ok, fail = report.ok, report.fail
    base = runtime.forum.base_url
    try:
        title = await runtime.api.site_title()
    except AddressRefused as exc:
        raise fail(f"unreachable host: {exc}") from exc
    except Unreachable as exc:
        raise fail(f"unreachable host: {exc}") from exc
    except (DiscourseError, WireError) as exc:
        raise fail(
            f"unreachable host: {base} answered, but not as a Discourse forum ({exc})"
        ) from exc
    ok(f"reached {title!r} at {base}")


async def _credentials(runtime: ForumRuntime, report: _Report) -> None:
    ok, fail = report.ok, report.fail
    user = runtime.forum.api_username
    try:
        await runtime.api.categories()
    except BadCredentials as exc:
        raise fail(
            f"bad key: the forum refused the API key for user {user!r} ({exc.message}). "
            f"Create a key in Admin > API > New API key, user level 'Single user' = {user}"
        ) from exc
    except Forbidden as exc:
        raise fail(
            f"missing permission: the key may not list categories ({exc.message}); "
            "give it the scope 'categories: list' (or use a global key)"
        ) from exc
    ok(f"the API key is accepted for user {user!r}")


async def _category(runtime: ForumRuntime, report: _Report) -> None:
    ok, fail = report.ok, report.fail
    forum = runtime.forum
    user = forum.api_username
    try:
        category = await runtime.api.category()
    except NotFound as exc:
        raise fail(
            f"unknown category: {forum.category!r} does not exist on {forum.base_url}, "
            f"or {user!r} may not see it (a read-restricted category: add the bot to a group "
            "that can see it)"
        ) from exc
    except Forbidden as exc:
        raise fail(
            f"missing permission: {user!r} may not see category {forum.category!r} "
            f"({exc.message}); scope 'categories: show' or a group that can see it"
        ) from exc
    ok(
        f"category {category.name!r} (id {category.id}, slug {category.slug!r}): "
        f"{category.topic_count} topics"
    )
    if not category.can_reply:
        raise fail(
            f"missing permission: {user!r} can see {category.name!r} but may not reply there "
            "(its groups have 'See' only): give a group of the bot 'Reply' or 'Create' "
            "in the category's security settings"
        )
    ok(f"{user!r} may reply in {category.name!r}")
    try:
        page = await runtime.api.page(0)
        if page.topics:
            await runtime.api.topic(page.topics[0].id)
    except Forbidden as exc:
        raise fail(
            f"missing permission: the key may not read the category's topics ({exc.message}); "
            "give it the scopes 'topics: read, read_lists' (or use a global key)"
        ) from exc
    except DiscourseError as exc:
        raise fail(f"reading the category's topics failed: {exc}") from exc
    ok("the key may read the category's topics")
