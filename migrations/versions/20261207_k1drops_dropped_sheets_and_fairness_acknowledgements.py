"""dropped score sheets and fairness acknowledgements

Revision ID: k1drops
Revises: j1notify
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "k1drops"
down_revision = "j1notify"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropped_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("dropped_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("drop_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assignments_dropped_by_id_users"), "users", ["dropped_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_assignments_drop_has_reason"),
            "(dropped_at IS NULL) = (drop_reason IS NULL)",
        )

    # Not in batch mode: on SQLite that would copy the table and lose the triggers that
    # refuse UPDATE and DELETE of published versions. A nullable column is added in place.
    op.add_column("published_results", sa.Column("acknowledgements", sa.JSON(), nullable=True))

    op.create_table(
        "fairness_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_fairness_acknowledgements_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_fairness_acknowledgements_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fairness_acknowledgements")),
        sa.UniqueConstraint(
            "event_id",
            "key",
            "digest",
            name=op.f("uq_fairness_acknowledgements_event_key_digest"),
        ),
    )
    with op.batch_alter_table("fairness_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fairness_acknowledgements_event_id"), ["event_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("fairness_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fairness_acknowledgements_event_id"))
    op.drop_table("fairness_acknowledgements")
    op.drop_column("published_results", "acknowledgements")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_assignments_drop_has_reason"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_assignments_dropped_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("drop_reason")
        batch_op.drop_column("dropped_by_id")
        batch_op.drop_column("dropped_at")
