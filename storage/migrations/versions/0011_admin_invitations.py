"""admin invitations: one-time codes that make their sender admin of a unit

Revision ID: 0011_admin_invitations
Revises: 0010_phone_reach
Create Date: 2026-12-08 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0011_admin_invitations"
down_revision = "0010_phone_reach"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = storage.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "admin_invitations",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("unit_id", _ID, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.Column("used_by", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name="fk_admin_invitations_unit_id_units",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by"],
            ["accounts.id"],
            name="fk_admin_invitations_used_by_accounts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_admin_invitations"),
        sa.UniqueConstraint("code_hash", name="uq_admin_invitations_code_hash"),
    )


def downgrade() -> None:
    op.drop_table("admin_invitations")
