"""Saved screener answers (the public web screener's "open your answers later" code).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screener_saves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("screener_saves", schema=None) as batch_op:
        batch_op.create_index("ix_screener_saves_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screener_saves", schema=None) as batch_op:
        batch_op.drop_index("ix_screener_saves_expires")
    op.drop_table("screener_saves")
