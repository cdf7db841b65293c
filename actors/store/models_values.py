"""Rows of value creation (actors/values.py): the claim of each value-creation story, the
indicators coordinators record per cycle, and the value collections of linked communities
fetched with the network's refresh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from federation.clock import utcnow


class ValueStoryRow(Base):
    """The value claim of one stored item: a community's own story, a member's post filed
    as one (by its hashtags), or a story that came over a link. Its community is the item's
    (``objects.community_id``, or the ``link_items`` that recorded it)."""

    __tablename__ = "value_stories"

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    cycle: Mapped[str] = mapped_column(String(20), index=True)
    changed: Mapped[str] = mapped_column(Text, default="")
    for_whom: Mapped[str] = mapped_column(String(200), default="")
    about: Mapped[list[Any]] = mapped_column(default=list)


class ValueIndicatorRow(Base):
    """An indicator a coordinator recorded for one cycle: a short fact, perhaps a number,
    and the date it holds for."""

    __tablename__ = "value_indicators"
    __table_args__ = (Index("ix_value_indicators_listing", "community_id", "cycle", "on_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))
    number: Mapped[float | None] = mapped_column(Float, default=None)
    on_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ValueCacheRow(Base):
    """A linked Group's value collection (its stories' claims and its indicators), as read
    through actors/values.py, fetched with its ``following`` at most once an hour."""

    __tablename__ = "value_cache"

    actor_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    stories: Mapped[list[Any]] = mapped_column(default=list)
    indicators: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
