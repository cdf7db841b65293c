"""Fetching a conversation from the servers its posts live on (FEP-7888, FEP-f228).

Nothing here writes: each function returns posts, every one of them confirmed by its own
server, for :mod:`actors.threads.filing` to store.

- :func:`ancestors`: the posts above a reply that copub does not hold, walking ``inReplyTo``
  up to a post it holds, a repeat (a cycle), a post its server does not confirm, or
  :attr:`ThreadSettings.max_ancestors`.
- :func:`collection_entries`: what a thread's ``context`` collection or a post's
  ``replies`` collection lists, page by page, ending at a page seen before (a loop of
  ``next``), a page on another server, :attr:`ThreadSettings.max_pages` or
  :attr:`ThreadSettings.max_items`.
- :func:`confirmed_posts`: the entries as their origins have them (an embedded copy is read
  only when it lives on the server that served the collection; any other is fetched from
  its own server), kept only when they join the conversation (:func:`joined`).

A post is taken as its id only when its server answered with exactly that id and one of
its authors lives there (:func:`actors.inbound.linked.check_item`). The caller bounds the
time (``asyncio.timeout(limits.backfill_seconds)``); every loop here is bounded by count.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from actors.inbound.linked import check_item
from actors.threads.limits import DEFAULT_THREAD_SETTINGS, ThreadSettings
from federation.errors import FederationError
from federation.intake import bounded, safe_url
from federation.origins import same_origin
from federation.vocab import JSON, get_id, has_type

log = logging.getLogger(__name__)

COLLECTION_TYPES = ("Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage")

# a URL -> the document its server answers (signed, bounded: actors.remote.Remote)
Fetch = Callable[[str], Awaitable[JSON]]
# ids -> those of them copub holds
Known = Callable[[Sequence[str]], Awaitable[set[str]]]


def parent_id(obj: JSON) -> str | None:
    """The post ``obj`` replies to (the first, when a list is sent), if it is a URL."""
    first = bounded(obj.get("inReplyTo"), 1)
    return safe_url(get_id(first[0])) if first else None


def context_id(obj: JSON) -> str | None:
    """The conversation ``obj`` belongs to (FEP-7888 ``context``), if it is a URL."""
    first = bounded(obj.get("context"), 1)
    return safe_url(get_id(first[0])) if first else None


def replies_id(obj: JSON) -> str | None:
    """Where ``obj``'s server lists its replies, if it says."""
    return safe_url(get_id(obj.get("replies")))


async def confirmed(fetch: Fetch, object_id: str) -> JSON | None:
    """The post ``object_id`` as its own server has it, or None (logged) when it cannot be
    had or is not a public post by someone of that server."""
    try:
        obj = await fetch(object_id)
    except FederationError as exc:
        log.info("thread post %s not fetched: %s", object_id, exc.reason)
        return None
    problem = check_item(object_id, obj, {})
    if problem is not None:
        log.info("thread post %s refused: %s", object_id, problem)
        return None
    return obj


async def ancestors(
    fetch: Fetch, obj: JSON, known: Known, limits: ThreadSettings = DEFAULT_THREAD_SETTINGS
) -> list[JSON]:
    """The posts above ``obj`` that copub does not hold, the highest first."""
    chain: list[JSON] = []
    seen = {str(get_id(obj))}
    above = parent_id(obj)
    while above is not None and len(chain) < limits.max_ancestors:
        if above in seen:
            log.info("inReplyTo of %s goes round in a cycle at %s", get_id(obj), above)
            break
        seen.add(above)
        if await known([above]):
            break
        post = await confirmed(fetch, above)
        if post is None:
            break
        chain.append(post)
        above = parent_id(post)
    chain.reverse()
    return chain


def _entries(document: JSON, room: int) -> list[Any]:
    return [
        *bounded(document.get("orderedItems"), room),
        *bounded(document.get("items"), room),
    ][:room]


async def collection_entries(
    fetch: Fetch,
    url: str,
    limits: ThreadSettings = DEFAULT_THREAD_SETTINGS,
    *,
    _nested: bool = False,
) -> list[str | JSON]:
    """The entries (ids, or embedded posts) of the collection at ``url`` and its pages,
    in order, without repeats. Pages are read from the collection's own server only. A
    ``Conversation`` (NodeBB before it served collections) is read through its ``posts``."""
    try:
        root = await fetch(url)
    except FederationError as exc:
        log.info("thread collection %s not fetched: %s", url, exc.reason)
        return []
    if has_type(root, "Conversation") and not _nested:
        # NodeBB's earlier shape: a Conversation whose ``posts`` is the collection
        posts = safe_url(get_id(root.get("posts")))
        if posts is None or posts == url or not same_origin(posts, url):
            return []
        return await collection_entries(fetch, posts, limits, _nested=True)
    if not has_type(root, *COLLECTION_TYPES):
        return []
    entries: list[Any] = _entries(root, limits.max_items)
    seen_pages = {url, str(get_id(root))}
    page: Any = root.get("first")
    pages = 0
    while page is not None and pages < limits.max_pages and len(entries) < limits.max_items:
        page_id = safe_url(get_id(page))
        if page_id is None or page_id in seen_pages or not same_origin(page_id, url):
            break
        seen_pages.add(page_id)
        pages += 1
        if not isinstance(page, dict):
            try:
                page = await fetch(page_id)
            except FederationError as exc:
                log.info("thread collection page %s not fetched: %s", page_id, exc.reason)
                break
        entries.extend(_entries(page, limits.max_items - len(entries)))
        page = page.get("next")
    unique: dict[str, str | JSON] = {}
    for entry in entries:
        ident = safe_url(get_id(entry))
        if ident is not None and ident not in unique:
            unique[ident] = entry
    return list(unique.values())[: limits.max_items]


async def confirmed_posts(
    fetch: Fetch,
    collection_url: str,
    entries: Iterable[str | JSON],
    known: Known,
    thread: set[str],
    limits: ThreadSettings = DEFAULT_THREAD_SETTINGS,
) -> list[JSON]:
    """The entries copub does not hold, confirmed by their servers, that join the
    conversation ``thread`` (the ids of its posts), parents before their replies."""
    wanted = {str(get_id(e)): e for e in entries}
    held = await known(list(wanted))
    thread |= held
    posts: list[JSON] = []
    for ident, entry in wanted.items():
        if ident in held or ident in thread:
            continue
        if isinstance(entry, dict) and same_origin(ident, collection_url):
            problem = check_item(ident, entry, {})
            post = entry if problem is None else None
        else:
            post = await confirmed(fetch, ident)
        if post is not None:
            posts.append(post)
        if len(posts) >= limits.max_items:
            break
    return joined(posts, thread)


def joined(posts: Sequence[JSON], thread: set[str]) -> list[JSON]:
    """The posts that reply, directly or through one another, to a post of ``thread``,
    parents before their replies; ``thread`` grows by them. Unconnected posts (another
    conversation listed by a careless or hostile collection) are left out."""
    waiting = {str(p["id"]): p for p in posts}
    ordered: list[JSON] = []
    progress = True
    while waiting and progress:
        progress = False
        for ident, post in list(waiting.items()):
            if parent_id(post) in thread:
                ordered.append(post)
                thread.add(ident)
                del waiting[ident]
                progress = True
    if waiting:
        log.info("%d posts of a thread collection do not join the conversation", len(waiting))
    return ordered
