"""Rows for the practice of a community: revisions, event details and participants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from actors.store.states import ParticipantState, StrEnumColumn
from federation.clock import utcnow


class RevisionRow(Base):
    """One saved version of a practice (or any local item): who, when, what changed."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    editor: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(String(500), default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    source_markdown: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str | None] = mapped_column(String(20), default=None)
    change_note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventDetailRow(Base):
    """Queryable fields of an event (the full Event JSON stays in ``objects.ap_json``)."""

    __tablename__ = "event_details"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime | None] = mapped_column(default=None)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    rrule: Mapped[str | None] = mapped_column(String(500), default=None)
    location_name: Mapped[str | None] = mapped_column(String(500), default=None)
    online_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    join_mode: Mapped[str] = mapped_column(String(20), default="free")
    capacity: Mapped[int | None] = mapped_column(default=None)


class ParticipantRow(Base):
    """A remote actor taking part in an event (Join accepted)."""

    __tablename__ = "event_participants"
    __table_args__ = (UniqueConstraint("object_id", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str] = mapped_column(String(2048))
    join_activity_id: Mapped[str] = mapped_column(String(2048))
    state: Mapped[ParticipantState] = mapped_column(
        StrEnumColumn(ParticipantState), default=ParticipantState.JOINED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TokenRow(Base):
    """A coordinator's bearer token for the client-to-server API, stored as a SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
