"""Privacy: purposes (with the default catalogue for existing tenants), consent history,
data requests.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A copy, so that this migration does not change when the application's catalogue does.
CATALOGUE = [
    (
        "account",
        "Account and service delivery",
        "CONTRACT",
        "Keeping your account, signing you in and providing the service you use.",
    ),
    ("support", "Customer support", "CONTRACT", "Answering your questions and fixing problems you report."),
    (
        "fraud-prevention",
        "Fraud prevention and security",
        "LEGITIMATE_INTEREST",
        "Detecting and stopping abuse of accounts and of the service.",
    ),
    ("newsletter", "Newsletter and offers", "CONSENT", "News about the product and occasional offers by email."),
    ("renewal-reminders", "Renewal reminders", "CONSENT", "Emails before your subscription or licence renews."),
    (
        "product-analytics",
        "Product improvement analytics",
        "CONSENT",
        "Measuring how features are used, to improve them.",
    ),
    ("review-invitations", "Review invitations", "CONSENT", "Occasional invitations to review the product."),
]


def upgrade() -> None:
    op.create_table(
        "purpose",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "legal_basis IN ('CONTRACT', 'CONSENT', 'LEGITIMATE_INTEREST', 'LEGAL_OBLIGATION')",
            name="purpose_legal_basis_check",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("purpose_key_key", "purpose", ["tenant_id", "key"], unique=True)
    op.create_table(
        "consent_event",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose_id", sa.Uuid(), nullable=False),
        sa.Column("purpose_key", sa.String(length=64), nullable=False),
        sa.Column("purpose_version", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source IN ('web', 'api', 'admin', 'email-link', 'system')", name="consent_event_source_check"
        ),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "purpose_id"], ["purpose.tenant_id", "purpose.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index(
        "consent_event_user_idx",
        "consent_event",
        ["tenant_id", "user_id", "purpose_id", sa.literal_column("recorded_at DESC")],
    )
    op.create_index("consent_event_purpose_idx", "consent_event", ["tenant_id", "purpose_id"])
    op.create_table(
        "data_request",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("download_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('EXPORT', 'ERASURE')", name="data_request_kind_check"),
        sa.CheckConstraint(
            "status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REJECTED')", name="data_request_status_check"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    # Erasing the subject keeps the request as proof, with the subject set to null.
    op.execute(
        "ALTER TABLE data_request ADD CONSTRAINT data_request_subject_fkey FOREIGN KEY (tenant_id, subject_id) "
        "REFERENCES app_user (tenant_id, id) ON DELETE SET NULL (subject_id)"
    )
    op.create_index(
        "data_request_time_idx",
        "data_request",
        ["tenant_id", sa.literal_column("requested_at DESC"), sa.literal_column("id DESC")],
    )
    op.create_index("data_request_subject_idx", "data_request", ["tenant_id", "subject_id"])
    # Export archives live in the database, so any web process can serve what any worker wrote.
    op.create_table(
        "export_chunk",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["data_request.tenant_id", "data_request.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "request_id", "seq"),
    )
    op.execute(
        sa.text(
            "INSERT INTO purpose (tenant_id, id, key, title, description, legal_basis, version, active) "
            "SELECT t.id, gen_random_uuid(), c->>'key', c->>'title', c->>'description', c->>'basis', 1, true "
            "FROM tenant t CROSS JOIN jsonb_array_elements(CAST(:catalogue AS jsonb)) AS c"
        ).bindparams(
            catalogue=json.dumps([{"key": k, "title": t, "basis": b, "description": d} for k, t, b, d in CATALOGUE])
        )
    )


def downgrade() -> None:
    op.drop_table("export_chunk")
    op.drop_table("data_request")
    op.drop_table("consent_event")
    op.drop_table("purpose")
