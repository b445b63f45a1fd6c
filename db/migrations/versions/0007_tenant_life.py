"""The tenant's whole life: its state (ACTIVE, SUSPENDED, CLOSED) and legal hold, the
contract record, the vendor's operators with their sessions and their own append-only,
hash-chained log; OPERATOR as an actor type; and the one way a closed tenant's audit
events may be deleted: by the purge at the end of its legal hold.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTOR_TYPES_BEFORE = "actor_type IN ('USER', 'SYSTEM', 'ANONYMOUS')"
ACTOR_TYPES = "actor_type IN ('USER', 'SYSTEM', 'ANONYMOUS', 'OPERATOR')"

FUNCTIONS = r"""
-- As audit_event_guard (0004), plus: the purge at the end of a CLOSED tenant's legal hold
-- deletes every event of that tenant (the application sets audit.tenant_purge to its id).
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  retention integer;
  tenant_state text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF (NEW.tenant_id, NEW.id, NEW.chain_seq, NEW.prev_hash, NEW.row_hash, NEW.occurred_at, NEW.action,
        NEW.actor_type, NEW.actor_id, NEW.target_type, NEW.target_id, NEW.request_id, NEW.changes)
       IS NOT DISTINCT FROM
       (OLD.tenant_id, OLD.id, OLD.chain_seq, OLD.prev_hash, OLD.row_hash, OLD.occurred_at, OLD.action,
        OLD.actor_type, OLD.actor_id, OLD.target_type, OLD.target_id, OLD.request_id, OLD.changes)
       AND NEW.ip_address IS NULL AND NEW.user_agent IS NULL THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT audit_retention_days, state INTO retention, tenant_state FROM tenant WHERE id = OLD.tenant_id;
  IF current_setting('audit.tenant_purge', true) = OLD.tenant_id::text AND tenant_state = 'CLOSED' THEN
    RETURN OLD;
  END IF;
  IF current_setting('audit.retention_purge', true) = 'on'
     AND OLD.occurred_at < now() - make_interval(days => retention) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION operator_audit_event_content(e operator_audit_event) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT audit_field(encode(e.prev_hash, 'hex'))
      || audit_field(e.chain_seq::text)
      || audit_field(e.id::text)
      || audit_field(((extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text)
      || audit_field(e.action)
      || audit_field(e.actor_type)
      || audit_field(e.operator_id::text)
      || audit_field(e.tenant_id::text)
      || audit_field(e.request_id)
      || audit_field(e.changes::text)
$$;

CREATE FUNCTION operator_audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last operator_audit_event%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('audit:operators', 0));
  SELECT * INTO last FROM operator_audit_event ORDER BY chain_seq DESC LIMIT 1;
  IF FOUND THEN
    NEW.chain_seq := last.chain_seq + 1;
    NEW.prev_hash := last.row_hash;
    NEW.occurred_at := greatest(NEW.occurred_at, last.occurred_at);
  ELSE
    NEW.chain_seq := 1;
    NEW.prev_hash := '\x'::bytea;
  END IF;
  NEW.row_hash := sha256(convert_to(operator_audit_event_content(NEW), 'UTF8'));
  RETURN NEW;
END $$;

CREATE FUNCTION operator_audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'operator_audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
"""

OLD_GUARD = r"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  retention integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF (NEW.tenant_id, NEW.id, NEW.chain_seq, NEW.prev_hash, NEW.row_hash, NEW.occurred_at, NEW.action,
        NEW.actor_type, NEW.actor_id, NEW.target_type, NEW.target_id, NEW.request_id, NEW.changes)
       IS NOT DISTINCT FROM
       (OLD.tenant_id, OLD.id, OLD.chain_seq, OLD.prev_hash, OLD.row_hash, OLD.occurred_at, OLD.action,
        OLD.actor_type, OLD.actor_id, OLD.target_type, OLD.target_id, OLD.request_id, OLD.changes)
       AND NEW.ip_address IS NULL AND NEW.user_agent IS NULL THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT audit_retention_days INTO retention FROM tenant WHERE id = OLD.tenant_id;
  IF current_setting('audit.retention_purge', true) = 'on'
     AND OLD.occurred_at < now() - make_interval(days => retention) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.add_column("tenant", sa.Column("state", sa.String(16), server_default="ACTIVE", nullable=False))
    op.add_column("tenant", sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tenant", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tenant", sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tenant", sa.Column("signup_nonce_hash", sa.LargeBinary(), nullable=True))
    op.create_check_constraint("tenant_state_check", "tenant", "state IN ('ACTIVE', 'SUSPENDED', 'CLOSED')")
    op.create_check_constraint(
        "tenant_closed_check", "tenant", "(state = 'CLOSED') = (closed_at IS NOT NULL AND retain_until IS NOT NULL)"
    )
    op.create_index("tenant_signup_nonce_key", "tenant", ["signup_nonce_hash"], unique=True)
    op.create_index("tenant_hold_idx", "tenant", ["retain_until"], postgresql_where=sa.text("state = 'CLOSED'"))

    op.create_table(
        "tenant_contract",
        sa.Column("tenant_id", postgresql.UUID(), nullable=False),
        sa.Column("company_name", sa.String(200), nullable=False),
        sa.Column("postal_address", sa.String(500), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("vat_id", sa.String(20), nullable=True),
        sa.Column("billing_email", sa.String(320), nullable=False),
        sa.Column("contact_name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id"),
    )

    op.drop_constraint("audit_event_actor_type_check", "audit_event", type_="check")
    op.create_check_constraint("audit_event_actor_type_check", "audit_event", ACTOR_TYPES)

    op.create_table(
        "operator",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("totp_key_id", sa.String(16), nullable=False),
        sa.Column("totp_last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("operator_username_key", "operator", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "operator_session",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("operator_id", postgresql.UUID(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("operator_session_hash_key", "operator_session", ["token_hash"], unique=True)
    op.create_index("operator_session_operator_idx", "operator_session", ["operator_id"])
    op.create_table(
        "operator_audit_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("operator_id", postgresql.UUID(), nullable=True),
        sa.Column("tenant_id", postgresql.UUID(), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("changes", postgresql.JSONB(), nullable=True),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("row_hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(ACTOR_TYPES, name="operator_audit_event_actor_type_check"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "operator_audit_event_seq_key", "operator_audit_event", [sa.literal_column("chain_seq DESC")], unique=True
    )
    op.create_index(
        "operator_audit_event_tenant_idx",
        "operator_audit_event",
        ["tenant_id", sa.literal_column("chain_seq DESC")],
    )
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER operator_audit_event_chain BEFORE INSERT ON operator_audit_event "
        "FOR EACH ROW EXECUTE FUNCTION operator_audit_event_chain()"
    )
    op.execute(
        "CREATE TRIGGER operator_audit_event_guard BEFORE UPDATE OR DELETE ON operator_audit_event "
        "FOR EACH ROW EXECUTE FUNCTION operator_audit_event_guard()"
    )
    op.execute(
        "CREATE TRIGGER operator_audit_event_no_truncate BEFORE TRUNCATE ON operator_audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_event_guard()"
    )


def downgrade() -> None:
    op.drop_table("operator_audit_event")
    op.execute(
        "DROP FUNCTION operator_audit_event_guard(), operator_audit_event_chain(), "
        "operator_audit_event_content(operator_audit_event)"
    )
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(OLD_GUARD)
    op.drop_table("operator_session")
    op.drop_index("operator_username_key", table_name="operator")
    op.drop_table("operator")
    op.drop_constraint("audit_event_actor_type_check", "audit_event", type_="check")
    op.create_check_constraint("audit_event_actor_type_check", "audit_event", ACTOR_TYPES_BEFORE)
    op.drop_table("tenant_contract")
    op.drop_index("tenant_hold_idx", table_name="tenant")
    op.drop_index("tenant_signup_nonce_key", table_name="tenant")
    op.drop_constraint("tenant_closed_check", "tenant", type_="check")
    op.drop_constraint("tenant_state_check", "tenant", type_="check")
    for column in ("signup_nonce_hash", "retain_until", "closed_at", "state_changed_at", "state"):
        op.drop_column("tenant", column)
