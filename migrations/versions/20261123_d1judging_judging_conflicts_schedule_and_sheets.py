"""judging conflicts schedule and sheets

Revision ID: d1judging
Revises: c1submissions
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "d1judging"
down_revision = "c1submissions"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
