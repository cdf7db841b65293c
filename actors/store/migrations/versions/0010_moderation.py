"""moderation: posting policy settings, held posts, reports, filters, the moderation log,
removed and locked items, remote Groups' moderators

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:00:00

The posting policy once called ``moderators`` is called ``coordinators``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)
URL = sa.String(length=2048)


def _community(nullable: bool = False) -> sa.Column[int]:
    return sa.Column("community_id", sa.Integer(), nullable=nullable)


def _cascade() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hold_first_posts", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("posts_per_hour", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("modlog_names", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE communities SET posting_policy = 'coordinators' WHERE posting_policy = 'moderators'"
    )
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("locked_at", UTC_TIME, nullable=True))

    op.create_table(
        "held_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        _community(),
        sa.Column("actor_id", URL, nullable=False),
        sa.Column("object_ap_id", URL, nullable=False),
        sa.Column("ap_activity", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        _cascade(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "object_ap_id"),
    )
    with op.batch_alter_table("held_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_posts_actor_id"), ["actor_id"])
        batch_op.create_index("ix_held_posts_queue", ["community_id", "state", "created_at"])

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        _community(nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("activity_id", URL, nullable=False),
        sa.Column("reporter", URL, nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        _cascade(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id"),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_queue", ["community_id", "state", "created_at"])

    op.create_table(
        "moderation_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        _community(nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _cascade(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "kind", "value"),
    )

    op.create_table(
        "modlog",
        sa.Column("id", sa.Integer(), nullable=False),
        _community(),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("target", URL, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("moderator", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _cascade(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("modlog", schema=None) as batch_op:
        batch_op.create_index("ix_modlog_community", ["community_id", "created_at"])

    op.create_table(
        "remote_moderators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", URL, nullable=False),
        sa.Column("actor_id", URL, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "actor_id"),
    )
    with op.batch_alter_table("remote_moderators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remote_moderators_group_id"), ["group_id"])


def downgrade() -> None:
    for table in ("remote_moderators", "modlog", "moderation_filters", "reports", "held_posts"):
        op.drop_table(table)
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_column("locked_at")
        batch_op.drop_column("removed_at")
    op.execute(
        "UPDATE communities SET posting_policy = 'moderators' WHERE posting_policy = 'coordinators'"
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("modlog_names")
        batch_op.drop_column("posts_per_hour")
        batch_op.drop_column("hold_first_posts")
