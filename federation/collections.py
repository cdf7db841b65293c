"""Paged OrderedCollections, as Mastodon and Lemmy page them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from federation.errors import BadRequest
from federation.vocab import AS_CONTEXT, JSON

PAGE_SIZE = 20
MAX_PAGE = 1_000_000  # no collection here has more pages


def collection_root(collection_id: str, total: int, *, page_size: int = PAGE_SIZE) -> JSON:
    """The collection itself: a count and a link to its first page."""
    root: JSON = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=1",
    }
    if total > 0:
        root["last"] = f"{collection_id}?page={last_page(total, page_size)}"
    return root


def last_page(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


def collection_page(
    collection_id: str,
    page: int,
    items: Sequence[Any],
    total: int,
    *,
    page_size: int = PAGE_SIZE,
) -> JSON:
    """One page; ``items`` are the page's items in collection order."""
    doc: JSON = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": list(items),
    }
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    if page < last_page(total, page_size):
        doc["next"] = f"{collection_id}?page={page + 1}"
    return doc


def parse_page(raw: str | None) -> int | None:
    """``?page=N`` as a positive int; None for the root; BadRequest (400) otherwise."""
    if raw is None:
        return None
    if raw.lower() == "true":
        return 1
    try:
        page = int(raw)
    except ValueError:
        page = 0
    if page < 1 or page > MAX_PAGE:
        raise BadRequest("page must be a positive integer")
    return page
