"""judging versions: what the progress board's ETag and render cache are keyed by

Revision ID: l1board
Revises: l1ops
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "l1board"
down_revision = "l1ops"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "judging_versions",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_judging_versions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "judge_id", name=op.f("pk_judging_versions")),
    )


def downgrade():
    op.drop_table("judging_versions")
