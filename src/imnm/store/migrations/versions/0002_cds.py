"""CDS Hooks: stored feedback and the shared JWT replay (jti) table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("client", sa.String(length=300), nullable=True),
        sa.Column("card", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("accepted_suggestions", sa.Text(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("outcome_timestamp", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cds_feedback_card", "cds_feedback", ["card"])
    op.create_table(
        "cds_token_uses",
        sa.Column("iss", sa.String(length=300), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("iss", "jti"),
    )
    op.create_index("ix_cds_token_uses_expiry", "cds_token_uses", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_cds_token_uses_expiry", table_name="cds_token_uses")
    op.drop_table("cds_token_uses")
    op.drop_index("ix_cds_feedback_card", table_name="cds_feedback")
    op.drop_table("cds_feedback")
