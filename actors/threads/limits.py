"""How much of a conversation is fetched at a time (no imports of the rest: the inbound
context carries it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadLimits:
    """How much of a conversation is fetched at a time."""

    # posts above a reply fetched to find where it belongs
    max_ancestors: int = 16
    # entries read of a thread's collections in one backfill or refresh
    max_items: int = 200
    # pages of one collection
    max_pages: int = 10
    # seconds one backfill may take, fetches included (what was confirmed by then is kept)
    seconds: float = 15.0


DEFAULT_THREAD_LIMITS = ThreadLimits()
