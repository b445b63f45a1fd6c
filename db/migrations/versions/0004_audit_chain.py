"""Tamper-evident, append-only audit log.

Each tenant's events form a hash chain built by a BEFORE INSERT trigger under a
per-tenant advisory lock held to commit, so the chain stays linear with concurrent
writers and `chain_seq` follows commit order. UPDATE, DELETE and TRUNCATE are refused
by triggers, except: the retention path may delete rows older than the tenant's audit
retention, and erasure may blank the IP address and user agent (which the hash leaves
out for that reason).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION audit_field(v text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN v IS NULL THEN '-' ELSE length(v)::text || ':' || v END $$;

-- What the hash covers, in a form api/audit/chain.py recomputes independently.
CREATE FUNCTION audit_event_content(e audit_event) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT audit_field(encode(e.prev_hash, 'hex'))
      || audit_field(e.tenant_id::text)
      || audit_field(e.chain_seq::text)
      || audit_field(e.id::text)
      || audit_field(((extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text)
      || audit_field(e.action)
      || audit_field(e.actor_type)
      || audit_field(e.actor_id::text)
      || audit_field(e.target_type)
      || audit_field(e.target_id::text)
      || audit_field(e.request_id)
      || audit_field(e.changes::text)
$$;

CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last audit_event%ROWTYPE;
BEGIN
  -- Held until commit: one writer per tenant extends the chain at a time.
  PERFORM pg_advisory_xact_lock(hashtextextended('audit:' || NEW.tenant_id::text, 0));
  SELECT * INTO last FROM audit_event WHERE tenant_id = NEW.tenant_id ORDER BY chain_seq DESC LIMIT 1;
  IF FOUND THEN
    NEW.chain_seq := last.chain_seq + 1;
    NEW.prev_hash := last.row_hash;
    NEW.occurred_at := greatest(NEW.occurred_at, last.occurred_at);
  ELSE
    NEW.chain_seq := 1;
    NEW.prev_hash := '\x'::bytea;
  END IF;
  NEW.row_hash := sha256(convert_to(audit_event_content(NEW), 'UTF8'));
  RETURN NEW;
END $$;

CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  retention integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    -- Erasure may blank who-from details; nothing else may change.
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
  -- DELETE: only the retention path, and only rows past the tenant's audit retention.
  SELECT audit_retention_days INTO retention FROM tenant WHERE id = OLD.tenant_id;
  IF current_setting('audit.retention_purge', true) = 'on'
     AND OLD.occurred_at < now() - make_interval(days => retention) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade() -> None:
    op.add_column(
        "tenant", sa.Column("audit_retention_days", sa.Integer(), server_default=sa.text("730"), nullable=False)
    )
    op.create_check_constraint("tenant_audit_retention_check", "tenant", "audit_retention_days BETWEEN 30 AND 3650")
    op.add_column("audit_event", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_event", sa.Column("prev_hash", sa.LargeBinary(), nullable=True))
    op.add_column("audit_event", sa.Column("row_hash", sa.LargeBinary(), nullable=True))
    for name in (
        "audit_event_action_idx",
        "audit_event_actor_idx",
        "audit_event_target_idx",
        "audit_event_tenant_time_idx",
    ):
        op.drop_index(name, table_name="audit_event")
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(FUNCTIONS)
    # Chain the events written before this migration, oldest first.
    op.execute(
        """
        DO $$
        DECLARE r record; prev bytea; t uuid; seq bigint;
        BEGIN
          FOR r IN SELECT tenant_id, id FROM audit_event ORDER BY tenant_id, id LOOP
            IF t IS DISTINCT FROM r.tenant_id THEN t := r.tenant_id; prev := '\\x'::bytea; seq := 0; END IF;
            seq := seq + 1;
            UPDATE audit_event SET chain_seq = seq, prev_hash = prev WHERE tenant_id = r.tenant_id AND id = r.id;
            UPDATE audit_event e SET row_hash = sha256(convert_to(audit_event_content(e), 'UTF8'))
              WHERE e.tenant_id = r.tenant_id AND e.id = r.id RETURNING e.row_hash INTO prev;
          END LOOP;
        END $$;
        """
    )
    for column in ("chain_seq", "prev_hash", "row_hash"):
        op.alter_column("audit_event", column, nullable=False)
    op.create_index(
        "audit_event_chain_key", "audit_event", ["tenant_id", sa.literal_column("chain_seq DESC")], unique=True
    )
    op.create_index(
        "audit_event_action_idx", "audit_event", ["tenant_id", "action", sa.literal_column("chain_seq DESC")]
    )
    op.create_index(
        "audit_event_actor_idx", "audit_event", ["tenant_id", "actor_id", sa.literal_column("chain_seq DESC")]
    )
    op.create_index(
        "audit_event_target_idx", "audit_event", ["tenant_id", "target_id", sa.literal_column("chain_seq DESC")]
    )
    op.create_index("audit_event_time_idx", "audit_event", ["tenant_id", "occurred_at", "chain_seq"])
    op.execute(
        "CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_chain()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard()"
    )


def downgrade() -> None:
    for trigger in ("audit_event_no_truncate", "audit_event_guard", "audit_event_chain"):
        op.execute(f"DROP TRIGGER {trigger} ON audit_event")
    op.execute(
        "DROP FUNCTION audit_event_guard(), audit_event_chain(), audit_event_content(audit_event), audit_field(text)"
    )
    for name in (
        "audit_event_chain_key",
        "audit_event_action_idx",
        "audit_event_actor_idx",
        "audit_event_target_idx",
        "audit_event_time_idx",
    ):
        op.drop_index(name, table_name="audit_event")
    for column in ("row_hash", "prev_hash", "chain_seq"):
        op.drop_column("audit_event", column)
    op.drop_column("tenant", "audit_retention_days")
