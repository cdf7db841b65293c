"""Rows of "who knows about what" (actors/whoknows.py): the people who asked to be left off
a community's page of who knows about its practices. Asking to be back in deletes the row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from federation.clock import utcnow


class WhoKnowsOptOutRow(Base):
    """``actor_id`` asked ``community_id`` to leave them out, in the post ``asked_in``."""

    __tablename__ = "who_knows_optouts"
    __table_args__ = (UniqueConstraint("community_id", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(2048))
    asked_in: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
