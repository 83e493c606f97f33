"""visit confirmation offline: the phone's key of the confirmation and when it reached the server

Revision ID: n2confirm
Revises: n1offline
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "n2confirm"
down_revision = "n1offline"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("confirm_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("confirm_received_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("confirm_received_at")
        batch.drop_column("confirm_key")
