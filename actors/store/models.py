"""Database rows. Wire JSON is kept in ``ap_``-prefixed columns, as received or sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from actors.store.states import FollowerState, InboxState, JobState, StrEnumColumn
from federation.clock import utcnow  # the columns' default


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class CommunityRow(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    closed: Mapped[bool] = mapped_column(default=False)
    # who is relayed without a hold (actors.moderation.PostingPolicy)
    posting_policy: Mapped[str] = mapped_column(String(20), default="followers")
    hold_first_posts: Mapped[bool] = mapped_column(default=False, server_default=false())
    posts_per_hour: Mapped[int] = mapped_column(default=0, server_default="0")  # 0: no limit
    modlog_names: Mapped[bool] = mapped_column(default=False, server_default=false())
    # visibility 'members' (actors/members.py): only approved followers see its items
    members_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # it was members-only and went public: some items stay members-only (ObjectRow)
    gated_items: Mapped[bool] = mapped_column(default=False, server_default=false())
    # then its last follower row: the members of those items are followers up to it
    members_until: Mapped[int | None] = mapped_column(default=None)
    profile_fields: Mapped[list[Any]] = mapped_column(default=list)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # bumped with every write its pages show (actors/store/versions.py): their validator
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")
    content_changed_at: Mapped[datetime | None] = mapped_column(default=None)


class ServerKeyRow(Base):
    """The server's own Application actor key (FEP-2677), one row."""

    __tablename__ = "server_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteKeyRow(Base):
    """Cache of remote public keys, by key id."""

    __tablename__ = "remote_keys"

    key_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    owner: Mapped[str] = mapped_column(String(2048))
    public_key_pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModeratorRow(Base):
    __tablename__ = "moderators"
    __table_args__ = (UniqueConstraint("community_id", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteActorRow(Base):
    """What we know of a remote actor: where to deliver, how to name it."""

    __tablename__ = "remote_actors"

    ap_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), default=None)
    handle: Mapped[str | None] = mapped_column(String(512), default=None)
    name: Mapped[str | None] = mapped_column(String(512), default=None)
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    actor_type: Mapped[str] = mapped_column(String(40), default="Person")
    ap_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowerRow(Base):
    """A remote actor following a community: ``pending`` until approved, then ``accepted``."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("community_id", "actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(String(2048))
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), default=None)
    state: Mapped[FollowerState] = mapped_column(
        StrEnumColumn(FollowerState), default=FollowerState.PENDING
    )
    follow_activity_id: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlockRow(Base):
    """A blocked actor (``kind='actor'``) or domain (``kind='domain'``); server-wide when
    ``community_id`` is null."""

    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("community_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxItemRow(Base):
    """An accepted incoming activity, stored before the 202 and processed later."""

    __tablename__ = "inbox_items"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_inbox_items_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048))
    # sha256 of (origin of the key that signed it, activity id): stored once per pair, so
    # no server can take another's ids (federation.inbox.dedupe_key)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    activity_type: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str] = mapped_column(String(2048))
    community_slug: Mapped[str | None] = mapped_column(String(63), default=None)
    ap_raw: Mapped[str] = mapped_column(Text)
    state: Mapped[InboxState] = mapped_column(
        StrEnumColumn(InboxState), default=InboxState.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # leased (``locked_by`` set) or waiting for a retry (``locked_by`` None) until then
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # the holder (process) of the lease (actors.store.holders)
    locked_by: Mapped[int | None] = mapped_column(default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ObjectRow(Base):
    """A story, practice, event or a member's post/reply, local or remote."""

    __tablename__ = "objects"
    # a community's items of one kind, newest first: its pages, feeds and member counts
    __table_args__ = (Index("ix_objects_listing", "community_id", "kind", "published"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # story, practice, event, post, reply
    ap_type: Mapped[str] = mapped_column(String(40))
    local: Mapped[bool] = mapped_column(default=False)
    attributed_to: Mapped[str] = mapped_column(String(2048))
    in_reply_to: Mapped[str | None] = mapped_column(String(2048), default=None, index=True)
    thread_root: Mapped[str | None] = mapped_column(String(2048), default=None, index=True)
    title: Mapped[str | None] = mapped_column(String(500), default=None)
    content_html: Mapped[str] = mapped_column(Text, default="")
    source_markdown: Mapped[str | None] = mapped_column(Text, default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str | None] = mapped_column(String(20), default=None)  # practices
    ap_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # a coordinator removed it (it is also ``deleted_at``): restoring it brings it back
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    # a coordinator locked its thread: replies are no longer relayed
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    # stored while its community was members-only, which has since gone public: still for
    # its members and coordinators only (actors/members.py)
    members_only: Mapped[bool] = mapped_column(default=False, server_default=false())


class ActivityRow(Base):
    """An activity a community sent (its outbox) or relayed."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    ap_type: Mapped[str] = mapped_column(String(40))
    object_ap_id: Mapped[str | None] = mapped_column(String(2048), default=None)
    public: Mapped[bool] = mapped_column(default=True)
    ap_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryRow(Base):
    """One job: deliver one activity to one inbox, retried until it lands or gives up."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_deliveries_due", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    inbox: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[JobState] = mapped_column(StrEnumColumn(JobState), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # the holder (process) of the lease (actors.store.holders)
    locked_by: Mapped[int | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FanoutRow(Base):
    """Deliveries of an activity still to be queued: a fan-out to many inboxes is stored
    with the activity in chunks, and the delivery worker queues a chunk a transaction
    (``actors.store.jobs``)."""

    __tablename__ = "fanouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    inboxes: Mapped[list[Any]] = mapped_column()  # distinct, valid; in the followers' order
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
