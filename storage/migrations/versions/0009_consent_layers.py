"""consent layers: the ids of the short first screen and the full notice an account answered

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for name in ("consent_short_version", "consent_full_version"):
            batch_op.add_column(sa.Column(name, sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("consent_full_version")
        batch_op.drop_column("consent_short_version")
