"""field visits: a stage's kind, visits (when and where) and visit checklists

Revision ID: n1visits
Revises: n1tte
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "n1visits"
down_revision = "n1tte"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="standard", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_stages_kind"), "kind IN ('standard', 'visit')"
        )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90", name=op.f("ck_visits_latitude")
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180",
            name=op.f("ck_visits_longitude"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_visits_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_visits_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("stage_id", "entry_id", name="uq_visits_stage_entry"),
    )
    op.create_index(op.f("ix_visits_entry_id"), "visits", ["entry_id"])
    op.create_index(op.f("ix_visits_stage_id"), "visits", ["stage_id"])
    op.create_table(
        "visit_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(length=15), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("client_key", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "mark IN ('observed', 'partly', 'not_observed')", name=op.f("ck_visit_checks_mark")
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_visit_checks_criterion_id_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["score_sheets.id"],
            name=op.f("fk_visit_checks_sheet_id_score_sheets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_visit_checks_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_checks")),
        sa.UniqueConstraint("sheet_id", "client_key", name="uq_visit_checks_sheet_client_key"),
        sa.UniqueConstraint("sheet_id", "criterion_id", name="uq_visit_checks_sheet_criterion"),
    )
    op.create_index(op.f("ix_visit_checks_sheet_id"), "visit_checks", ["sheet_id"])


def downgrade():
    op.drop_table("visit_checks")
    op.drop_table("visits")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_stages_kind"), type_="check")
        batch_op.drop_column("kind")
