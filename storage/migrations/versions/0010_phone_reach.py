"""phone reach: reminders by SMS or ZNS to the phones on file of people who never opened the
bot (one durable row per record, phone and round before each send), and opted-out numbers

Revision ID: 0010_phone_reach
Revises: 0009
Create Date: 2026-12-08 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010_phone_reach"
down_revision = "0009"
branch_labels = None
depends_on = None

_when = storage.models.UtcDateTime(timezone=True)
_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "phone_reach",
        sa.Column("id", _id, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("person_id", _id, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("round", sa.String(length=32), nullable=False),
        sa.Column("invitation_id", _id, nullable=True),
        sa.Column("code_seed", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("created_at", _when, nullable=False),
        sa.Column("sent_at", _when, nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_phone_reach_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitations.id"],
            name=op.f("fk_phone_reach_invitation_id_invitations"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_reach")),
        sa.UniqueConstraint("key", name=op.f("uq_phone_reach_key")),
    )  # fmt: skip
    op.create_index("ix_phone_reach_phone", "phone_reach", ["phone", "created_at"])
    op.create_index("ix_phone_reach_person", "phone_reach", ["person_id", "phone"])
    op.create_index("ix_phone_reach_status", "phone_reach", ["status", "id"])
    op.create_table(
        "phone_optouts",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_at", _when, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_phone_optouts")),
    )


def downgrade() -> None:
    op.drop_table("phone_optouts")
    op.drop_index("ix_phone_reach_status", table_name="phone_reach")
    op.drop_index("ix_phone_reach_person", table_name="phone_reach")
    op.drop_index("ix_phone_reach_phone", table_name="phone_reach")
    op.drop_table("phone_reach")
