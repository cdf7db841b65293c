"""The adapter's rows: which forum post is which ActivityPub object, the sync state, and the
durable queue of work (webhook events to apply, writes to the forum).

The tables are created by actors' migration chain (``0004_discourse``, with plain table
definitions, so actors never imports this module); these models map them and share
``actors.store.Base`` so the migrations-match-models check covers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.items import ItemKind
from actors.store import Base, JobState, StrEnumColumn
from federation.clock import utcnow


class PostOrigin(StrEnum):
    """Who wrote a mirrored post first (``discourse_posts.origin``)."""

    FORUM = "forum"  # the forum: we mirror it to the fediverse
    FEDIVERSE = "fediverse"  # a member's reply we posted to the forum: never mirrored back


class ForumJobKind(StrEnum):
    """What a job does (``discourse_jobs.kind``)."""

    WEBHOOK = "webhook"  # apply a verified webhook event (its payload: a WebhookJob)
    REPLY = "reply"  # post a fediverse reply into its topic
    EDIT = "edit"  # edit the forum post of a reply
    DELETE = "delete"  # delete the forum post of a reply


@dataclass(frozen=True)
class WebhookJob:
    """A verified webhook event waiting to be applied: the payload of a ``webhook`` job,
    stored as ``{"event", "event_id", "body"}``."""

    event: str  # X-Discourse-Event, e.g. post_created
    event_id: str  # X-Discourse-Event-Id
    body: dict[str, Any]  # the event's JSON object

    def to_payload(self) -> dict[str, Any]:
        return {"event": self.event, "event_id": self.event_id, "body": self.body}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> WebhookJob:
        return cls(
            event=str(payload.get("event")),
            event_id=str(payload.get("event_id") or ""),
            body=payload["body"],
        )


class ForumPostRow(Base):
    """One forum post <-> one object. ``origin`` says who wrote it first: ``forum`` (we
    mirror it to the fediverse) or ``fediverse`` (a member's reply we posted to the forum:
    never mirrored back). ``version`` and ``fingerprint`` make applying a post idempotent."""

    __tablename__ = "discourse_posts"
    __table_args__ = (
        UniqueConstraint("community_id", "post_id"),
        Index("ix_discourse_posts_topic", "community_id", "topic_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column()
    post_id: Mapped[int] = mapped_column()
    post_number: Mapped[int] = mapped_column()
    object_ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    origin: Mapped[PostOrigin] = mapped_column(
        StrEnumColumn(PostOrigin, 10), default=PostOrigin.FORUM
    )
    version: Mapped[int] = mapped_column(default=1)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    announced: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForumTopicRow(Base):
    """What we last saw of a topic: a listing whose ``bumped_at`` and ``highest_post_number``
    are unchanged needs no fetch (so a second backfill costs one request per 30 topics)."""

    __tablename__ = "discourse_topics"
    __table_args__ = (UniqueConstraint("community_id", "topic_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column()
    slug: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(20), default=ItemKind.STORY)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    object_ap_id: Mapped[str | None] = mapped_column(String(2048), default=None)
    highest_post_number: Mapped[int] = mapped_column(default=0)
    bumped_at: Mapped[str] = mapped_column(String(40), default="")
    deleted: Mapped[bool] = mapped_column(default=False)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForumStateRow(Base):
    """Per community: the category, the backfill cursor (resumable) and the last poll."""

    __tablename__ = "discourse_state"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int | None] = mapped_column(default=None)
    category_slug: Mapped[str | None] = mapped_column(String(255), default=None)
    backfill_page: Mapped[int] = mapped_column(default=0)
    backfill_started_at: Mapped[datetime | None] = mapped_column(default=None)
    backfill_finished_at: Mapped[datetime | None] = mapped_column(default=None)
    last_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class ForumJobRow(Base):
    """Durable work: ``webhook`` (a verified event to apply), or a write to the forum:
    ``reply``, ``edit``, ``delete`` of the object ``object_ap_id``. Retried with backoff
    until done; writes about one object run in order."""

    __tablename__ = "discourse_jobs"
    __table_args__ = (Index("ix_discourse_jobs_due", "state", "next_try_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ForumJobKind] = mapped_column(StrEnumColumn(ForumJobKind, 20))
    object_ap_id: Mapped[str | None] = mapped_column(String(2048), default=None, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[JobState] = mapped_column(StrEnumColumn(JobState), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
