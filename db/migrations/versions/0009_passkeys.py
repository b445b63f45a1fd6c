"""Passkeys (WebAuthn credentials, a user handle per account, single-use challenges) and
the session's last proof of who is there (for step-up before sensitive actions).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("webauthn_user_handle", sa.LargeBinary(), nullable=True))
    op.create_index("app_user_webauthn_handle_key", "app_user", ["tenant_id", "webauthn_user_handle"], unique=True)
    op.add_column("user_session", sa.Column("proof_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("user_session", sa.Column("proof_method", sa.String(24), nullable=True))
    op.create_check_constraint(
        "user_session_proof_method_check",
        "user_session",
        "proof_method IS NULL OR proof_method IN ('password', 'password+totp', 'password+passkey', 'passkey')",
    )
    # Sessions that exist now proved themselves when they were made.
    op.execute(
        "UPDATE user_session SET proof_at = created_at, "
        "proof_method = CASE WHEN mfa_verified THEN 'password+totp' ELSE 'password' END"
    )
    op.create_table(
        "webauthn_credential",
        sa.Column("tenant_id", postgresql.UUID(), nullable=False),
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("user_id", postgresql.UUID(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("transports", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_index("webauthn_credential_id_key", "webauthn_credential", ["tenant_id", "credential_id"], unique=True)
    op.create_index("webauthn_credential_user_idx", "webauthn_credential", ["tenant_id", "user_id"])
    op.create_table(
        "webauthn_challenge",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("ceremony", sa.String(24), nullable=False),
        sa.Column("challenge_hash", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(), nullable=True),
        sa.Column("user_id", postgresql.UUID(), nullable=True),
        sa.Column("session_id", postgresql.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "ceremony IN ('registration', 'login', 'second_factor', 'reauthentication')",
            name="webauthn_challenge_ceremony_check",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("webauthn_challenge_expires_idx", "webauthn_challenge", ["expires_at"])


def downgrade() -> None:
    op.drop_table("webauthn_challenge")
    op.drop_table("webauthn_credential")
    op.drop_constraint("user_session_proof_method_check", "user_session", type_="check")
    op.drop_column("user_session", "proof_method")
    op.drop_column("user_session", "proof_at")
    op.drop_index("app_user_webauthn_handle_key", table_name="app_user")
    op.drop_column("app_user", "webauthn_user_handle")
