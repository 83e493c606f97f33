"""rate counts: uses per client address in fixed windows (uploads checked on /verify)

Revision ID: n1tte2
Revises: n1visits
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "n1tte2"
down_revision = "n1photos"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_counts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_counts")),
    )
    with op.batch_alter_table("rate_counts", schema=None) as batch_op:
        batch_op.create_index("ix_rate_counts_window_start", ["window_start"], unique=False)


def downgrade():
    with op.batch_alter_table("rate_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_counts_window_start")
    op.drop_table("rate_counts")
