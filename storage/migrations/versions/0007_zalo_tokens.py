"""zalo: the OA's token pair (refreshed under a row lock) and per-person channel memory (last
interaction for Zalo's reply window, the buttons last shown)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_when = storage.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "zalo_tokens",
        sa.Column("oa_id", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", _when, nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", _when, nullable=False),
        sa.PrimaryKeyConstraint("oa_id", name=op.f("pk_zalo_tokens")),
    )
    op.create_table(
        "zalo_users",
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("last_interaction_at", _when, nullable=True),
        sa.Column("menu", sa.JSON(), nullable=True),
        sa.Column("menu_at", _when, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_zalo_users")),
    )


def downgrade() -> None:
    op.drop_table("zalo_users")
    op.drop_table("zalo_tokens")
