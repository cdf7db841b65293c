"""The health of each peer (the host of an inbox), shared by every delivery worker: its
circuit breaker and Mastodon's failing-days rule (``federation.delivery.health``; the
queries: ``actors.store.peer_health``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from federation.clock import utcnow


class PeerHealthRow(Base):
    """A host that deliveries went to (or that came back after failing): a row appears
    with its first reported attempt."""

    __tablename__ = "peer_health"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)  # as deliveries.host
    # the circuit: failed attempts in a row, open until (None: closed), its last cooldown
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(default=None)
    cooldown_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # the failing days since the last success; unavailable once there are enough of them
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    failure_days: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_day: Mapped[date | None] = mapped_column(Date, default=None)
    unavailable_since: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_failure_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
