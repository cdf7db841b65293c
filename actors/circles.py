"""Who takes part in a community, and how deeply: Wenger's circles of participation.

Pure functions over counts the store has already made (actors/store/participation.py):

- **core**: coordinators (when ``coordinators_are_core``) and anyone with at least
  ``core_min_contributions`` contributions in the window;
- **active**: at least ``active_min_contributions`` (and fewer than the core's);
- **peripheral**: followers below the active threshold, who mostly read;
- **transactional**: people who took part (posted, replied, joined an event) without
  following, below the active threshold.

A contribution is a post or a reply to the community or, when
``count_event_participation``, joining one of its events, within ``window_days``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from actors.settings import ParticipationSettings


class Level(StrEnum):
    CORE = "core"
    ACTIVE = "active"
    PERIPHERAL = "peripheral"
    TRANSACTIONAL = "transactional"


@dataclass(frozen=True)
class Participation:
    """What one person did in the window, and how they stand to the community."""

    actor_id: str
    posts: int = 0  # posts and replies to the community
    events_joined: int = 0
    follower: bool = False
    coordinator: bool = False


@dataclass(frozen=True)
class Member:
    actor_id: str
    level: Level
    contributions: int
    coordinator: bool = False


@dataclass(frozen=True)
class Circles:
    """The community page's view: core and active by name, the outer rings as counts."""

    core: tuple[Member, ...]
    active: tuple[Member, ...]
    peripheral: int
    transactional: int

    @property
    def total(self) -> int:
        return len(self.core) + len(self.active) + self.peripheral + self.transactional


def window_start(now: datetime, settings: ParticipationSettings) -> datetime:
    """Contributions at or after this moment count."""
    return now - timedelta(days=settings.window_days)


def contributions(p: Participation, settings: ParticipationSettings) -> int:
    return p.posts + (p.events_joined if settings.count_event_participation else 0)


def level_of(p: Participation, settings: ParticipationSettings) -> Level | None:
    """The circle of one person; None for someone who neither follows nor took part."""
    count = contributions(p, settings)
    if (p.coordinator and settings.coordinators_are_core) or (
        count >= settings.core_min_contributions
    ):
        return Level.CORE
    if count >= settings.active_min_contributions:
        return Level.ACTIVE
    if p.follower:
        return Level.PERIPHERAL
    if p.posts or p.events_joined:
        return Level.TRANSACTIONAL
    return None


def derive_circles(
    participations: Iterable[Participation],
    settings: ParticipationSettings,
    *,
    followers_total: int,
) -> Circles:
    """The circles of a community.

    ``participations`` holds everyone who contributed in the window, and the coordinators;
    followers who did nothing are not listed one by one: ``followers_total`` (accepted
    followers) counts them, and those of them not in the core or active ring are peripheral.
    Core and active are ordered by contributions (most first), then by actor id.
    """
    core: list[Member] = []
    active: list[Member] = []
    inner_followers = 0
    transactional = 0
    seen: set[str] = set()
    for p in participations:
        if p.actor_id in seen:
            raise ValueError(f"{p.actor_id} is listed twice")
        seen.add(p.actor_id)
        level = level_of(p, settings)
        member = Member(p.actor_id, Level.CORE, contributions(p, settings), p.coordinator)
        if level is Level.CORE:
            core.append(member)
        elif level is Level.ACTIVE:
            active.append(Member(member.actor_id, Level.ACTIVE, member.contributions, False))
        elif level is Level.TRANSACTIONAL:
            transactional += 1
        if p.follower and level in (Level.CORE, Level.ACTIVE):
            inner_followers += 1

    def order(m: Member) -> tuple[bool, int, str]:
        return (not m.coordinator, -m.contributions, m.actor_id)

    return Circles(
        core=tuple(sorted(core, key=order)),
        active=tuple(sorted(active, key=order)),
        peripheral=max(0, followers_total - inner_followers),
        transactional=transactional,
    )
