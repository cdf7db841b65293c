"""Rows for links between communities: who follows whom, what came over a link, and the
cached ``following`` collections of linked communities (the network's second hop)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from actors.store.states import LinkState, StrEnumColumn
from federation.clock import utcnow


class LinkPolicy(StrEnum):
    """What a link does with the items that come over it (``links.policy``)."""

    NONE = "none"  # shown on the community's pages only (a new link's policy)
    ANNOUNCE = "announce"  # also announced to the community's followers


class LinkRow(Base):
    """Our community following a remote Group (an outgoing link): ``pending`` until the
    Group's Accept, ``rejected`` after its Reject. Incoming links are followers whose actor
    is a Group (``followers``); they need no row here."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("community_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    remote_actor_id: Mapped[str] = mapped_column(String(2048), index=True)
    inbox: Mapped[str] = mapped_column(String(2048))
    state: Mapped[LinkState] = mapped_column(StrEnumColumn(LinkState), default=LinkState.PENDING)
    policy: Mapped[LinkPolicy] = mapped_column(StrEnumColumn(LinkPolicy), default=LinkPolicy.NONE)
    follow_activity_id: Mapped[str] = mapped_column(String(2048), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkItemRow(Base):
    """An item that reached a community over a link, once per (community, object).

    The object itself is stored once in ``objects`` (kind ``linked``, so it stays out of the
    community's own stories, feeds, calendar and circles); ``kind`` here is what it is
    (story, practice, event, post, reply), ``origin_group`` the community it belongs to and
    ``via_actor`` the linked Group it came from."""

    __tablename__ = "link_items"
    __table_args__ = (
        UniqueConstraint("community_id", "object_id"),
        Index("ix_link_items_listing", "community_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    via_actor: Mapped[str] = mapped_column(String(2048))
    origin_group: Mapped[str] = mapped_column(String(2048))
    announced: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class NetworkCacheRow(Base):
    """The ``following`` collection of a linked Group, fetched at most once an hour."""

    __tablename__ = "network_cache"

    actor_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    following: Mapped[list[Any]] = mapped_column(default=list)
    total: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
