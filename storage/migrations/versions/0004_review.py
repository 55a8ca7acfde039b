"""review, verification, conflicts, export batches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 21:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_when = storage.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("verified_at", _when, nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", _when, nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("exported_at", _when, nullable=True))
        batch_op.create_index("ix_change_sets_status", ["status", "id"], unique=False)
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("conflict_value", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("conflict", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("batch")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("conflict")
        batch_op.drop_column("conflict_value")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review_status")
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_change_sets_status")
        batch_op.drop_column("exported_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verification")
