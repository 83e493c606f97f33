"""judging conflicts schedule and sheets

Stage panels, conflicts of interest, presentation schedule slots, the score-change trail,
sheet audit fields (source, finalised by, reopened by/at/why), per-score update time, and the
event setting ``judges_see_names`` (blind judging with coded ids when false).

Revision ID: d1judging
Revises: c1submissions
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "d1judging"
down_revision = "c1submissions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("judges_see_names", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "stage_panel_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stages.id"],
            name=op.f("fk_stage_panel_members_stage_id_stages"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"], ["users.id"], name=op.f("fk_stage_panel_members_judge_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_panel_members")),
        sa.UniqueConstraint("stage_id", "judge_id", name="uq_stage_panel_members_stage_judge"),
    )
    with op.batch_alter_table("stage_panel_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_panel_members_stage_id"), ["stage_id"])
        batch_op.create_index(batch_op.f("ix_stage_panel_members_judge_id"), ["judge_id"])

    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("source IN ('judge', 'admin')", name=op.f("ck_conflicts_source")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"],
            name=op.f("fk_conflicts_entry_id_entries"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["judge_id"], ["users.id"], name=op.f("fk_conflicts_judge_id_users")),
        sa.ForeignKeyConstraint(
            ["declared_by_id"], ["users.id"], name=op.f("fk_conflicts_declared_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
        sa.UniqueConstraint("entry_id", "judge_id", name="uq_conflicts_entry_judge"),
    )
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflicts_entry_id"), ["entry_id"])
        batch_op.create_index(batch_op.f("ix_conflicts_judge_id"), ["judge_id"])

    with op.batch_alter_table("score_sheets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=10), nullable=False, server_default="online")
        )
        batch_op.add_column(sa.Column("finalised_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reopened_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reopen_reason", sa.Text(), nullable=True))
        batch_op.create_check_constraint("source", "source IN ('online', 'paper')")
        batch_op.create_foreign_key(
            batch_op.f("fk_score_sheets_finalised_by_id_users"), "users", ["finalised_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_score_sheets_reopened_by_id_users"), "users", ["reopened_by_id"], ["id"]
        )

    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))

    op.create_table(
        "score_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=True),
        sa.Column("old_value", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("new_value", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("old_comment", sa.Text(), nullable=True),
        sa.Column("new_comment", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('score', 'final', 'reopen')", name=op.f("ck_score_changes_kind")),
        sa.ForeignKeyConstraint(
            ["sheet_id"], ["score_sheets.id"],
            name=op.f("fk_score_changes_sheet_id_score_sheets"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"], ["criteria.id"],
            name=op.f("fk_score_changes_criterion_id_criteria"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_score_changes_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
        sa.UniqueConstraint("sheet_id", "version", name="uq_score_changes_sheet_version"),
    )
    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_changes_sheet_id"), ["sheet_id"])

    op.create_table(
        "schedule_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("room", sa.String(length=120), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_schedule_slots_order")),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stages.id"],
            name=op.f("fk_schedule_slots_stage_id_stages"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"],
            name=op.f("fk_schedule_slots_entry_id_entries"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_slots")),
        sa.UniqueConstraint("stage_id", "entry_id", name="uq_schedule_slots_stage_entry"),
    )
    with op.batch_alter_table("schedule_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_slots_stage_id"), ["stage_id"])
        batch_op.create_index(batch_op.f("ix_schedule_slots_entry_id"), ["entry_id"])


def downgrade():
    with op.batch_alter_table("schedule_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_slots_entry_id"))
        batch_op.drop_index(batch_op.f("ix_schedule_slots_stage_id"))
    op.drop_table("schedule_slots")

    with op.batch_alter_table("score_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_changes_sheet_id"))
    op.drop_table("score_changes")

    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("score_sheets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_score_sheets_reopened_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_score_sheets_finalised_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_score_sheets_source"), type_="check")
        batch_op.drop_column("reopen_reason")
        batch_op.drop_column("reopened_by_id")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("finalised_by_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflicts_judge_id"))
        batch_op.drop_index(batch_op.f("ix_conflicts_entry_id"))
    op.drop_table("conflicts")

    with op.batch_alter_table("stage_panel_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_panel_members_judge_id"))
        batch_op.drop_index(batch_op.f("ix_stage_panel_members_stage_id"))
    op.drop_table("stage_panel_members")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("judges_see_names")
