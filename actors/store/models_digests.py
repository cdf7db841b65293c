"""Rows of the email digests: who subscribed to a community's digest, and each digest sent.

An address is kept only for its digest: ``digest_subscriptions`` holds nothing else, and
unsubscribing deletes the row (and its sends with it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from actors.store.states import JobState, StrEnumColumn
from federation.clock import utcnow


class DigestSubscriptionRow(Base):
    """An address that asked for a community's digest: pending until its owner follows
    the confirmation link (``confirmed_at``), then sent each period's digest."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("community_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    frequency: Mapped[str] = mapped_column(String(10))  # actors.digests.periods.Frequency
    # SHA-256 of the confirmation link's secret (actors.digests.tokens); None once used
    confirm_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSendRow(Base):
    """One period's digest to one subscription: a job of the digest queue, retried until
    the SMTP server takes it (``done``, ``sent_at``) or it gives up. Unique per
    (subscription, period): enqueued once, and its being done is the record that it went."""

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start"),
        Index("ix_digest_sends_due", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE")
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    # the Message-ID of every attempt: the same on a retry, so a mail system that already
    # has the message can drop the second copy (the idempotency key)
    message_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[JobState] = mapped_column(StrEnumColumn(JobState), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)  # counted when an attempt starts
    settled: Mapped[int] = mapped_column(default=0)  # attempts whose outcome was recorded
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
