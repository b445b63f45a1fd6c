"""Hardening: when an account was warned before an inactivity erasure, and signed
checkpoints of each tenant's audit chain (the anchor a database user cannot forge).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("inactivity_warned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_checkpoint",
        sa.Column("tenant_id", postgresql.UUID(), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("prev_mac", sa.LargeBinary(), nullable=False),
        sa.Column("mac", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "chain_seq"),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    op.drop_column("app_user", "inactivity_warned_at")
