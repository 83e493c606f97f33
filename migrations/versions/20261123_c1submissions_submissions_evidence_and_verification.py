"""submissions evidence and verification

Revision ID: c1submissions
Revises: 7c7ee2983a3c
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "c1submissions"
down_revision = "7c7ee2983a3c"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
