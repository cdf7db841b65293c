"""Rows for moderation: posts held for the coordinators, reports (``Flag``) received and
sent, word and link filters, the public moderation log, and the moderators of remote
Groups our communities link to (learned from their ``Add``/``Remove``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from actors.store.states import StrEnumColumn
from federation.clock import utcnow


class HoldState(StrEnum):
    """A member's post waiting for the coordinators (``held_posts.state``)."""

    HELD = "held"  # stored, not relayed: in the queue
    APPROVED = "approved"  # relayed (once) when a coordinator approved it
    REJECTED = "rejected"  # never relayed


class ReportState(StrEnum):
    """A report in a queue (``reports.state``)."""

    OPEN = "open"
    RESOLVED = "resolved"


class ReportDirection(StrEnum):
    """``in``: a ``Flag`` another server sent us; ``out``: one a coordinator sent."""

    IN = "in"
    OUT = "out"


class FilterKind(StrEnum):
    """What a filter matches (``moderation_filters.kind``)."""

    WORD = "word"  # a word or phrase in the post's text (case-insensitive)
    DOMAIN = "domain"  # a link to this domain (or one under it)


class ModAction(StrEnum):
    """A line of the public moderation log (``modlog.action``)."""

    HELD = "held"
    APPROVED = "approved"
    REJECTED = "rejected"
    REMOVED = "removed"
    RESTORED = "restored"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    BANNED = "banned"
    UNBANNED = "unbanned"
    COORDINATOR_ADDED = "coordinator_added"
    COORDINATOR_REMOVED = "coordinator_removed"
    REPORTED = "reported"  # a report sent to another server


class HeldPostRow(Base):
    """A post sent to a community that was not relayed: it waits for a coordinator.
    The activity is kept whole, so approving it relays what came."""

    __tablename__ = "held_posts"
    __table_args__ = (
        UniqueConstraint("community_id", "object_ap_id"),
        Index("ix_held_posts_queue", "community_id", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(2048), index=True)
    object_ap_id: Mapped[str] = mapped_column(String(2048))
    ap_activity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[HoldState] = mapped_column(StrEnumColumn(HoldState), default=HoldState.HELD)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)


class ReportRow(Base):
    """A report: a ``Flag`` received (about a community's items or people, or the
    server's when it names no community) or sent by a coordinator."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_queue", "community_id", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), default=None
    )
    direction: Mapped[ReportDirection] = mapped_column(StrEnumColumn(ReportDirection, 8))
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    reporter: Mapped[str] = mapped_column(String(2048))  # an actor; out: the coordinator
    objects: Mapped[list[Any]] = mapped_column(default=list)  # the URLs reported
    content: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ReportState] = mapped_column(StrEnumColumn(ReportState), default=ReportState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(200), default=None)


class FilterRow(Base):
    """A word or link domain that holds a post; server-wide when ``community_id`` is null."""

    __tablename__ = "moderation_filters"
    __table_args__ = (UniqueConstraint("community_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[FilterKind] = mapped_column(StrEnumColumn(FilterKind, 8))
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModlogRow(Base):
    """One moderation decision, as the community's public log shows it. ``moderator`` is
    kept always; the log shows it only when the community says so."""

    __tablename__ = "modlog"
    __table_args__ = (Index("ix_modlog_community", "community_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    action: Mapped[ModAction] = mapped_column(StrEnumColumn(ModAction, 24))
    target: Mapped[str] = mapped_column(String(2048))  # the post's or the actor's URL
    reason: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(40))  # coordinator, admin, filter, policy
    moderator: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteModeratorRow(Base):
    """A moderator of a remote Group, as its ``Add``/``Remove`` (or its ``moderators``
    collection) told us: whose removals of that Group's items we apply."""

    __tablename__ = "remote_moderators"
    __table_args__ = (UniqueConstraint("group_id", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(2048), index=True)
    actor_id: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
