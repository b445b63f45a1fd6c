"""Each person's newest decision per purpose, kept by a trigger, so reading what is decided
now (setConsents' answer, viewer.consents, the consent report, renewal requests) does not
read the history, however long it grows; and an index to page through a history.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KEEP_CURRENT = """
CREATE FUNCTION consent_current_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO consent_current AS c (tenant_id, user_id, purpose_id, granted, purpose_version, recorded_at, event_id)
  VALUES (NEW.tenant_id, NEW.user_id, NEW.purpose_id, NEW.granted, NEW.purpose_version, NEW.recorded_at, NEW.id)
  ON CONFLICT (tenant_id, user_id, purpose_id) DO UPDATE
    SET granted = EXCLUDED.granted, purpose_version = EXCLUDED.purpose_version,
        recorded_at = EXCLUDED.recorded_at, event_id = EXCLUDED.event_id
    -- The newest wins, as "ORDER BY recorded_at DESC, id DESC" over the history says.
    WHERE (EXCLUDED.recorded_at, EXCLUDED.event_id) > (c.recorded_at, c.event_id);
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "consent_current",
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("purpose_id", UUID(as_uuid=True), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("purpose_version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "purpose_id"),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "purpose_id"], ["purpose.tenant_id", "purpose.id"], ondelete="CASCADE"),
    )
    op.create_index("consent_current_purpose_idx", "consent_current", ["tenant_id", "purpose_id"])
    op.execute(
        """
        INSERT INTO consent_current (tenant_id, user_id, purpose_id, granted, purpose_version, recorded_at, event_id)
        SELECT DISTINCT ON (tenant_id, user_id, purpose_id)
               tenant_id, user_id, purpose_id, granted, purpose_version, recorded_at, id
        FROM consent_event ORDER BY tenant_id, user_id, purpose_id, recorded_at DESC, id DESC
        """
    )
    op.execute(KEEP_CURRENT)
    op.execute(
        "CREATE TRIGGER consent_current_keep AFTER INSERT ON consent_event "
        "FOR EACH ROW EXECUTE FUNCTION consent_current_keep()"
    )
    op.create_index(
        "consent_event_history_idx",
        "consent_event",
        ["tenant_id", "user_id", sa.text("recorded_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("consent_event_history_idx", table_name="consent_event")
    op.execute("DROP TRIGGER consent_current_keep ON consent_event")
    op.execute("DROP FUNCTION consent_current_keep()")
    op.drop_index("consent_current_purpose_idx", table_name="consent_current")
    op.drop_table("consent_current")
