"""Indexes for claiming deliveries receiver by receiver (api/webhooks/sender.py): each
receiver's oldest pending delivery is found without scanning anyone else's.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "webhook_delivery_application_due_idx",
        "webhook_delivery",
        ["application_id", "next_attempt_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index(
        "webhook_delivery_endpoint_due_idx",
        "webhook_delivery",
        ["tenant_id", "endpoint_id", "next_attempt_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_index("webhook_delivery_endpoint_due_idx", table_name="webhook_delivery")
    op.drop_index("webhook_delivery_application_due_idx", table_name="webhook_delivery")
