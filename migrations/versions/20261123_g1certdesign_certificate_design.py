"""certificate design: background image and signature images

Revision ID: g1certdesign
Revises: f1certificates
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "g1certdesign"
down_revision = "f1certificates"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificate_settings") as batch:
        batch.add_column(sa.Column("background_key", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("text_colour", sa.String(length=7), nullable=True))


def downgrade():
    with op.batch_alter_table("certificate_settings") as batch:
        batch.drop_column("text_colour")
        batch.drop_column("background_key")
