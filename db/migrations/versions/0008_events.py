"""Events that leave the service: connected applications and their API keys, tenants'
webhook endpoints, the outbox (webhook_event) with one delivery per receiver and every
attempt, and data-request parts (applications' erasure confirmations and export parts).

Two triggers: a statement-level NOTIFY when deliveries are queued (sent at commit, so the
delivery loop wakes when there is something to send), and `audit.event`: every audit
event of a tenant becomes an event for the receivers that want the stream, in the same
transaction, with its chain position and hashes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ACTOR_TYPES_BEFORE = "actor_type IN ('USER', 'SYSTEM', 'ANONYMOUS', 'OPERATOR')"
ACTOR_TYPES = "actor_type IN ('USER', 'SYSTEM', 'ANONYMOUS', 'OPERATOR', 'APPLICATION')"

FUNCTIONS = r"""
-- The operators' log stays append-only, except that who-from details (IP address, user
-- agent: personal data of operators and of anonymous callers) may be blanked when they
-- have been kept long enough; the hash leaves them out for that reason.
CREATE OR REPLACE FUNCTION operator_audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (NEW.id, NEW.chain_seq, NEW.prev_hash, NEW.row_hash, NEW.occurred_at, NEW.action, NEW.actor_type,
          NEW.operator_id, NEW.tenant_id, NEW.request_id, NEW.changes)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.chain_seq, OLD.prev_hash, OLD.row_hash, OLD.occurred_at, OLD.action, OLD.actor_type,
          OLD.operator_id, OLD.tenant_id, OLD.request_id, OLD.changes)
     AND NEW.ip_address IS NULL AND NEW.user_agent IS NULL THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'operator_audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION webhook_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('webhook_delivery', '');
  RETURN NULL;
END $$;

-- The payload carries what a customer needs to recompute the row hash (see the README):
-- the exact text of `changes` as hashed, and the time in whole microseconds. Who-from
-- details (IP address, user agent) are not streamed: erasure blanks them, and the hash
-- leaves them out for that reason.
CREATE FUNCTION audit_event_stream() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_id uuid;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.tenant_id = NEW.tenant_id AND 'audit.event' = ANY(w.event_types))
     AND NOT EXISTS (SELECT 1 FROM application a WHERE 'audit.event' = ANY(a.event_types)) THEN
    RETURN NULL;
  END IF;
  event_id := gen_random_uuid();
  INSERT INTO webhook_event (id, tenant_id, type, payload, subject_id, occurred_at)
  VALUES (event_id, NEW.tenant_id, 'audit.event', jsonb_build_object(
    'type', 'audit.event',
    'timestamp', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'data', jsonb_build_object(
      'tenantId', NEW.tenant_id,
      'id', NEW.id,
      'chainSeq', NEW.chain_seq,
      'occurredAt', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'occurredAtMicros', (extract(epoch FROM NEW.occurred_at) * 1000000)::bigint,
      'action', NEW.action,
      'actorType', NEW.actor_type,
      'actorId', NEW.actor_id,
      'targetType', NEW.target_type,
      'targetId', NEW.target_id,
      'requestId', NEW.request_id,
      'changes', NEW.changes,
      'changesText', NEW.changes::text,
      'prevHash', encode(NEW.prev_hash, 'hex'),
      'rowHash', encode(NEW.row_hash, 'hex'))), NULL, NEW.occurred_at);
  INSERT INTO webhook_delivery (id, event_id, application_id, tenant_id, endpoint_id, status, next_attempt_at, created_at)
  SELECT gen_random_uuid(), event_id, NULL, w.tenant_id, w.id, 'PENDING', now(), now()
    FROM webhook_endpoint w WHERE w.tenant_id = NEW.tenant_id AND w.enabled AND 'audit.event' = ANY(w.event_types)
  UNION ALL
  SELECT gen_random_uuid(), event_id, a.id, NULL, NULL, 'PENDING', now(), now()
    FROM application a WHERE a.enabled AND 'audit.event' = ANY(a.event_types);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    for table in ("audit_event", "operator_audit_event"):
        op.drop_constraint(f"{table}_actor_type_check", table, type_="check")
        op.create_check_constraint(f"{table}_actor_type_check", table, ACTOR_TYPES)

    op.add_column("data_request", sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "application",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("webhook_url", sa.String(2048), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("takes_erasure", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("takes_export", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("application_name_key", "application", [sa.text("lower(name)")], unique=True)
    op.create_table(
        "application_api_key",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("application_id", postgresql.UUID(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("application_api_key_hash_key", "application_api_key", ["key_hash"], unique=True)
    op.create_index("application_api_key_application_idx", "application_api_key", ["application_id"])
    op.create_table(
        "webhook_endpoint",
        sa.Column("tenant_id", postgresql.UUID(), nullable=False),
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", postgresql.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("subject_id", postgresql.UUID(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("webhook_event_tenant_time_idx", "webhook_event", ["tenant_id", "occurred_at"])
    op.create_index(
        "webhook_event_subject_idx", "webhook_event", ["subject_id"], postgresql_where=sa.text("subject_id IS NOT NULL")
    )
    op.create_index("webhook_event_time_idx", "webhook_event", ["occurred_at"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("event_id", postgresql.UUID(), nullable=False),
        sa.Column("application_id", postgresql.UUID(), nullable=True),
        sa.Column("tenant_id", postgresql.UUID(), nullable=True),
        sa.Column("endpoint_id", postgresql.UUID(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["webhook_event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"], ["webhook_endpoint.tenant_id", "webhook_endpoint.id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "(application_id IS NULL) <> (endpoint_id IS NULL) AND (endpoint_id IS NULL) = (tenant_id IS NULL)",
            name="webhook_delivery_target_check",
        ),
        sa.CheckConstraint("status IN ('PENDING', 'SUCCEEDED', 'FAILED')", name="webhook_delivery_status_check"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "webhook_delivery_due_idx",
        "webhook_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index("webhook_delivery_event_idx", "webhook_delivery", ["event_id"])
    op.create_index(
        "webhook_delivery_application_idx", "webhook_delivery", ["application_id", sa.literal_column("created_at DESC")]
    )
    op.create_index(
        "webhook_delivery_endpoint_idx",
        "webhook_delivery",
        ["tenant_id", "endpoint_id", sa.literal_column("created_at DESC")],
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", postgresql.UUID(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("webhook_attempt_delivery_idx", "webhook_attempt", ["delivery_id", "attempted_at"])
    op.create_table(
        "data_request_part",
        sa.Column("tenant_id", postgresql.UUID(), nullable=False),
        sa.Column("request_id", postgresql.UUID(), nullable=False),
        sa.Column("application_id", postgresql.UUID(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["data_request.tenant_id", "data_request.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"], ondelete="CASCADE"),
        sa.CheckConstraint(
            "status IN ('PENDING', 'CONFIRMED', 'DELIVERED', 'MISSING')", name="data_request_part_status_check"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "request_id", "application_id"),
    )
    op.create_index(
        "data_request_part_pending_idx",
        "data_request_part",
        ["status", "created_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
    )

    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    driver.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER webhook_delivery_notify AFTER INSERT ON webhook_delivery "
        "FOR EACH STATEMENT EXECUTE FUNCTION webhook_delivery_notify()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_stream AFTER INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_stream()"
    )


def downgrade() -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION operator_audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'operator_audit_event is append-only' USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute("DROP TRIGGER audit_event_stream ON audit_event")
    op.execute("DROP TRIGGER webhook_delivery_notify ON webhook_delivery")
    op.execute("DROP FUNCTION audit_event_stream(), webhook_delivery_notify()")
    for table in (
        "data_request_part",
        "webhook_attempt",
        "webhook_delivery",
        "webhook_event",
        "webhook_endpoint",
        "application_api_key",
    ):
        op.drop_table(table)
    op.drop_index("application_name_key", table_name="application")
    op.drop_table("application")
    op.drop_column("data_request", "overdue_notified_at")
    for table in ("audit_event", "operator_audit_event"):
        op.drop_constraint(f"{table}_actor_type_check", table, type_="check")
        op.create_check_constraint(f"{table}_actor_type_check", table, ACTOR_TYPES_BEFORE)
