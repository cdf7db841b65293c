"""What applying forum state did (:class:`Counts`), and who hears of new items
(:class:`Announce`)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass(frozen=True)
class Announce:
    """Which new items followers receive. Replies are announced only in topics that were
    already known: importing an old topic brings its replies as history."""

    topics: bool
    replies: bool


LIVE = Announce(topics=True, replies=True)
QUIET = Announce(topics=False, replies=False)
