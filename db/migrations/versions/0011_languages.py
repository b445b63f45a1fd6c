"""Languages: each account's locale and time zone (None follows the organisation's), each
organisation's default locale and time zone, purposes' titles and descriptions per locale.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenant", sa.Column("default_locale", sa.String(8), nullable=False, server_default="en"))
    op.add_column("tenant", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))
    op.add_column("app_user", sa.Column("locale", sa.String(8), nullable=True))
    op.add_column("app_user", sa.Column("time_zone", sa.String(64), nullable=True))
    op.add_column("purpose", sa.Column("translations", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))


def downgrade() -> None:
    op.drop_column("purpose", "translations")
    op.drop_column("app_user", "time_zone")
    op.drop_column("app_user", "locale")
    op.drop_column("tenant", "time_zone")
    op.drop_column("tenant", "default_locale")
