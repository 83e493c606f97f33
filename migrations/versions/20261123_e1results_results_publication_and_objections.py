"""results publication and objections

Revision ID: e1results
Revises: d1judging
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1results"
down_revision = "d1judging"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
