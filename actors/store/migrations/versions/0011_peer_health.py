"""peer health: each delivery host's circuit breaker and failing days, shared by workers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

The circuit breaker was kept per process and there was no failing-days rule; both now live
in ``peer_health`` so that every ``copub worker`` and ``copub serve`` shares them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import actors.store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TIME = actors.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "peer_health",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", UTC_TIME, nullable=True),
        sa.Column("cooldown_seconds", sa.Float(), nullable=False),
        sa.Column("failing_since", UTC_TIME, nullable=True),
        sa.Column("failure_days", sa.Integer(), nullable=False),
        sa.Column("last_failure_day", sa.Date(), nullable=True),
        sa.Column("unavailable_since", UTC_TIME, nullable=True),
        sa.Column("last_success_at", UTC_TIME, nullable=True),
        sa.Column("last_failure_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("host"),
    )
    with op.batch_alter_table("peer_health", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_peer_health_unavailable_since"), ["unavailable_since"])


def downgrade() -> None:
    op.drop_table("peer_health")
