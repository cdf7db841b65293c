"""``[threads]``: how much of a conversation is fetched at a time, and how often held
threads are looked at again (no imports of the rest: the inbound context carries it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadSettings:
    """``[threads]`` of config.example.toml."""

    # posts above a reply fetched to find where it belongs
    max_ancestors: int = 16
    # entries read of a thread's collections in one backfill, or of one thread in a refresh
    max_items: int = 200
    # pages read of one collection
    max_pages: int = 10
    # seconds one backfill (or one thread's refresh) may take, fetches included; what was
    # confirmed by then is kept
    backfill_seconds: float = 15.0
    # held threads are looked at again every this many minutes (0: never)
    refresh_minutes: float = 30.0
    # ...those with a post in the last this many days...
    refresh_days: int = 14
    # ...at most this many, the liveliest first...
    refresh_threads: int = 50
    # ...each through its context and the replies of its latest this many remote posts
    refresh_replies: int = 10

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these settings, as (field, why), for the settings loader."""
        found = [
            (name, "must be at least 1")
            for name in ("max_items", "max_pages", "refresh_days", "refresh_threads")
            if getattr(self, name) < 1
        ]
        found += [
            (name, "must not be negative")
            for name in ("max_ancestors", "refresh_replies", "refresh_minutes")
            if getattr(self, name) < 0
        ]
        if self.backfill_seconds <= 0:
            found.append(("backfill_seconds", "must be positive"))
        return found


DEFAULT_THREAD_SETTINGS = ThreadSettings()
