"""Foundation: tenants, accounts, tokens, sessions, audit events, and the job queue.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:29:49.731028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The job queue's tables and functions, from the pinned procrastinate major version.
    # Run through the raw driver connection: the file is many statements with % and :: in it.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(SchemaManager.get_schema())
    op.create_table(
        "tenant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seat_limit", sa.Integer(), nullable=True),
        sa.Column("require_mfa", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("session_idle_timeout_minutes", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("session_absolute_timeout_hours", sa.Integer(), server_default=sa.text("12"), nullable=False),
        sa.Column("inactive_account_retention_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "inactive_account_retention_days IS NULL OR inactive_account_retention_days >= 1",
            name="tenant_retention_check",
        ),
        sa.CheckConstraint("seat_limit IS NULL OR seat_limit >= 0", name="tenant_seat_limit_check"),
        sa.CheckConstraint("session_absolute_timeout_hours BETWEEN 1 AND 8760", name="tenant_absolute_check"),
        sa.CheckConstraint("session_idle_timeout_minutes BETWEEN 1 AND 10080", name="tenant_idle_check"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("tenant_slug_key", "tenant", [sa.literal_column("lower(slug)")], unique=True)
    op.create_table(
        "app_user",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('OWNER', 'ADMIN', 'MEMBER')", name="app_user_role_check"),
        sa.CheckConstraint("status IN ('INVITED', 'ACTIVE', 'DISABLED')", name="app_user_status_check"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("app_user_email_key", "app_user", ["tenant_id", sa.literal_column("lower(email)")], unique=True)
    op.create_index("app_user_tenant_status_idx", "app_user", ["tenant_id", "status", "role"], unique=False)
    op.create_index(
        "app_user_username_key", "app_user", ["tenant_id", sa.literal_column("lower(username)")], unique=True
    )
    op.create_table(
        "audit_event",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),  # bigserial: audit_event_id_seq
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("actor_type IN ('USER', 'SYSTEM', 'ANONYMOUS')", name="audit_event_actor_type_check"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index(
        "audit_event_action_idx", "audit_event", ["tenant_id", "action", sa.literal_column("id DESC")], unique=False
    )
    op.create_index(
        "audit_event_actor_idx", "audit_event", ["tenant_id", "actor_id", sa.literal_column("id DESC")], unique=False
    )
    op.create_index(
        "audit_event_target_idx", "audit_event", ["tenant_id", "target_id", sa.literal_column("id DESC")], unique=False
    )
    op.create_index(
        "audit_event_tenant_time_idx", "audit_event", ["tenant_id", sa.literal_column("id DESC")], unique=False
    )
    op.create_table(
        "account_token",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "kind IN ('invitation', 'password_reset', 'email_verification')", name="account_token_kind_check"
        ),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("account_token_hash_idx", "account_token", ["token_hash"], unique=False)
    op.create_index("account_token_hash_key", "account_token", ["tenant_id", "token_hash"], unique=True)
    op.create_index("account_token_user_idx", "account_token", ["tenant_id", "user_id", "kind"], unique=False)
    op.create_table(
        "user_session",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("mfa_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.CheckConstraint("stage IN ('full', 'mfa_pending', 'mfa_enrollment')", name="user_session_stage_check"),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("user_session_expires_idx", "user_session", ["expires_at"], unique=False)
    op.create_index("user_session_hash_idx", "user_session", ["token_hash"], unique=False)
    op.create_index("user_session_hash_key", "user_session", ["tenant_id", "token_hash"], unique=True)
    op.create_index("user_session_user_idx", "user_session", ["tenant_id", "user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("user_session_user_idx", table_name="user_session")
    op.drop_index("user_session_hash_key", table_name="user_session")
    op.drop_index("user_session_hash_idx", table_name="user_session")
    op.drop_index("user_session_expires_idx", table_name="user_session")
    op.drop_table("user_session")
    op.drop_index("account_token_user_idx", table_name="account_token")
    op.drop_index("account_token_hash_key", table_name="account_token")
    op.drop_index("account_token_hash_idx", table_name="account_token")
    op.drop_table("account_token")
    op.drop_index("audit_event_tenant_time_idx", table_name="audit_event")
    op.drop_index("audit_event_target_idx", table_name="audit_event")
    op.drop_index("audit_event_actor_idx", table_name="audit_event")
    op.drop_index("audit_event_action_idx", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index("app_user_username_key", table_name="app_user")
    op.drop_index("app_user_tenant_status_idx", table_name="app_user")
    op.drop_index("app_user_email_key", table_name="app_user")
    op.drop_table("app_user")
    op.drop_index("tenant_slug_key", table_name="tenant")
    op.drop_table("tenant")
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers, procrastinate_version CASCADE"
    )
    op.execute(
        "DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, procrastinate_job_to_defer_v1 CASCADE"
    )
