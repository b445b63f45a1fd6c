"""Wake the webhook sender only when a statement really queued deliveries: the event
outbox statement runs with every write and usually inserts nothing, and a NOTIFY per
statement took the commit-time notification lock (shared by every tenant) and woke the
sender for nothing.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TRIGGER webhook_delivery_notify ON webhook_delivery")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION webhook_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM queued) THEN
            PERFORM pg_notify('webhook_delivery', '');
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER webhook_delivery_notify AFTER INSERT ON webhook_delivery "
        "REFERENCING NEW TABLE AS queued FOR EACH STATEMENT EXECUTE FUNCTION webhook_delivery_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER webhook_delivery_notify ON webhook_delivery")
    op.execute(
        "CREATE OR REPLACE FUNCTION webhook_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('webhook_delivery', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER webhook_delivery_notify AFTER INSERT ON webhook_delivery "
        "FOR EACH STATEMENT EXECUTE FUNCTION webhook_delivery_notify()"
    )
