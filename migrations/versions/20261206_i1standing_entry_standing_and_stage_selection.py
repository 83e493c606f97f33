"""entry standing per stage and selection between stages

Revision ID: i1standing
Revises: h1batches
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "i1standing"
down_revision = "h1batches"
branch_labels = None
depends_on = None

STANDINGS = "'active', 'no_submission', 'eliminated', 'withdrawn', 'not_selected'"


def upgrade():
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("standing", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("standing_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("standing_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("standing_stage_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("standing_changed_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_entries_standing_stage_id_stages"),
            "stages",
            ["standing_stage_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_entries_standing"), f"standing IN ({STANDINGS})"
        )
        batch_op.create_index(batch_op.f("ix_entries_standing"), ["standing"], unique=False)

    op.create_table(
        "stage_selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("min_score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("chosen_ids", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('top_n', 'pass_mark', 'jury')", name=op.f("ck_stage_selections_kind")
        ),
        sa.CheckConstraint("count IS NULL OR count >= 1", name=op.f("ck_stage_selections_count")),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_stage_selections_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_stage_selections_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_stage_selections_confirmed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_selections")),
        sa.UniqueConstraint("stage_id", "category_id", name=op.f("uq_stage_selections_stage_id")),
    )


def downgrade():
    op.drop_table("stage_selections")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_standing"))
        batch_op.drop_constraint(batch_op.f("ck_entries_standing"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_entries_standing_stage_id_stages"), type_="foreignkey"
        )
        batch_op.drop_column("standing_changed_at")
        batch_op.drop_column("standing_stage_id")
        batch_op.drop_column("standing_note")
        batch_op.drop_column("standing_reason")
        batch_op.drop_column("standing")
