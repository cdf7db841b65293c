"""Paged OrderedCollections, as Mastodon and Lemmy page them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from federation.vocab import AS_CONTEXT, JSON

PAGE_SIZE = 20


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
    """``?page=N`` as a positive int; None for the root; ValueError when malformed."""
    if raw is None:
        return None
    if raw.lower() == "true":
        return 1
    page = int(raw)
    if page < 1 or page > 1_000_000:
        raise ValueError("page out of range")
    return page
