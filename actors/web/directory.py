"""A short-lived per-process cache of communities, for the hot read paths.

Actor documents and WebFinger are read far more than communities change; a few
seconds of staleness (``ttl``) is invisible to peers (they cache actors for hours).
Missing slugs are not cached, so a community created by the CLI is served immediately.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from actors.community import Community
from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.loop_reads import LoopReads
from federation.errors import NotFound


@dataclass
class _Entry:
    community: Community
    expires: float
    rendered: dict[str, bytes]
    version: int = -1  # its content version (actors/store/versions.py), when known


class CommunityDirectory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl: float = 10.0,
        *,
        reads: LoopReads | None = None,
    ) -> None:
        """``reads``: on SQLite, reads on the event loop (actors/store/loop_reads.py)."""
        self._reads = reads or LoopReads(sessions, None)
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}

    async def get(self, slug: str) -> Community | None:
        entry = await self._entry(slug)
        return entry.community if entry else None

    async def require(self, slug: str) -> Community:
        """The community ``slug`` names; NotFound (404) if there is none."""
        community = await self.get(slug)
        if community is None:
            raise NotFound(f"no community named {slug!r}")
        return community

    async def _entry(self, slug: str) -> _Entry | None:
        entry = self._entries.get(slug)
        now = time.monotonic()
        if entry is not None and entry.expires > now:
            return entry
        community = await self._reads.community(slug)
        if community is None:
            self._entries.pop(slug, None)
            return None
        entry = _Entry(community, now + self._ttl, {})
        self._entries[slug] = entry
        return entry

    async def at_version(self, slug: str, version: int) -> None:
        """Have ``slug``'s entry loaded at ``version`` or later, whatever its age: a page
        validated by that version renders the community as it was written then."""
        entry = self._entries.get(slug)
        if entry is not None and entry.version >= version:
            return
        self._entries.pop(slug, None)
        entry = await self._entry(slug)
        if entry is not None:
            entry.version = version

    def forget(self, slug: str) -> None:
        """Drop ``slug``'s entry (found older than the database): the next read loads it."""
        self._entries.pop(slug, None)

    def cached_body(self, slug: str, kind: str) -> bytes | None:
        entry = self._entries.get(slug)
        if entry is None or entry.expires <= time.monotonic():
            return None
        return entry.rendered.get(kind)

    def store_body(self, slug: str, kind: str, body: bytes) -> None:
        entry = self._entries.get(slug)
        if entry is not None:
            entry.rendered[kind] = body
