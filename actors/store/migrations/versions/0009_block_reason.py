"""block reason: why coordinators blocked an actor or a domain

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

``copub block --reason`` and the console's People page keep it for the coordinators
(never sent to anyone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_column("reason")
