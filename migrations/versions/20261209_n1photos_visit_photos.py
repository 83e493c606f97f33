"""visit photos, photos a visit criterion requires, and the KIM representative's
confirmation of a visit

Revision ID: n1photos
Revises: n1visits
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "n1photos"
down_revision = "n1visits"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("photos_required", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_criteria_photos_required"), "photos_required BETWEEN 0 AND 10"
        )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("representative_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("representative_signature_key", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_visits_confirmed_by_id_users"), "users", ["confirmed_by_id"], ["id"]
        )
    op.create_table(
        "visit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("accuracy_m", sa.Integer(), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90",
            name=op.f("ck_visit_photos_latitude"),
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180",
            name=op.f("ck_visit_photos_longitude"),
        ),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_visit_photos_position")
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_visit_photos_criterion_id_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["score_sheets.id"],
            name=op.f("fk_visit_photos_sheet_id_score_sheets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_visit_photos_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_photos")),
        sa.UniqueConstraint("sheet_id", "client_key", name="uq_visit_photos_sheet_client_key"),
    )
    op.create_index(op.f("ix_visit_photos_sheet_id"), "visit_photos", ["sheet_id"])


def downgrade():
    op.drop_table("visit_photos")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_visits_confirmed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("confirmed_by_id")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("representative_signature_key")
        batch_op.drop_column("representative_name")
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_criteria_photos_required"), type_="check")
        batch_op.drop_column("photos_required")
