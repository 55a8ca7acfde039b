"""export batches: index outbox (batch, status)

A batch's rows are read, renewed and completed by its name; without the index each of those is a
scan of the outbox's pending rows. With ``status`` second, SQLite prefers it over ix_outbox_due
for "batch = ? AND status = ?" (a one-column index on batch lost to ix_outbox_due there).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_batch", ["batch", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_batch")
