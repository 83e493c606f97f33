"""offline visits: the keys of saves synced from a phone, applied once per sheet

Revision ID: n1offline
Revises: n1photos
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "n1offline"
down_revision = "n1photos"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sheet_sync_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('score', 'check')", name=op.f("ck_sheet_sync_keys_kind")),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_sheet_sync_keys_criterion_id_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["score_sheets.id"],
            name=op.f("fk_sheet_sync_keys_sheet_id_score_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sheet_sync_keys")),
        sa.UniqueConstraint(
            "sheet_id", "client_key", name="uq_sheet_sync_keys_sheet_client_key"
        ),
    )
    op.create_index(op.f("ix_sheet_sync_keys_sheet_id"), "sheet_sync_keys", ["sheet_id"])


def downgrade():
    op.drop_table("sheet_sync_keys")
