"""members-only communities: a community whose items only its approved followers see

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 05:00:00

``communities.members_only``: true for a community whose visibility is ``members``
(actors/members.py): approval required, everything addressed to its followers only and
fetched only by them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column("members_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("members_only")
