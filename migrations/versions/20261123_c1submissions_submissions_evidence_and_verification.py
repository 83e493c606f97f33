"""submissions evidence and verification

Revision ID: c1submissions
Revises: 7c7ee2983a3c
Create Date: 2026-11-23

Entries get their submission state (status, the entry's own profile, submitted / sent back /
verified times and the personal deadline of an entry sent back for fixes); ``evidence`` holds
each file or link of an entry, for a criterion or (criterion NULL) the presentation.
"""

import sqlalchemy as sa
from alembic import op

revision = "c1submissions"
down_revision = "7c7ee2983a3c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "submission_status",
                sa.String(length=12),
                server_default="not_started",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("profile", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("returned_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("returned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("personal_deadline", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("verified_by_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_entries_submission_status"),
            "submission_status IN ('not_started', 'in_progress', 'submitted', 'returned', "
            "'verified')",
        )
        batch_op.create_foreign_key(
            op.f("fk_entries_verified_by_id_users"), "users", ["verified_by_id"], ["id"]
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('file', 'link')", name=op.f("ck_evidence_kind")),
        sa.CheckConstraint(
            "(kind = 'file' AND storage_key IS NOT NULL AND sha256 IS NOT NULL AND url IS NULL)"
            " OR (kind = 'link' AND url IS NOT NULL AND storage_key IS NULL)",
            name=op.f("ck_evidence_kind_fields"),
        ),
        sa.CheckConstraint("size IS NULL OR size >= 0", name=op.f("ck_evidence_size")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_evidence_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_evidence_criterion_id_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_evidence_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("entry_id", "sha256", name="uq_evidence_entry_sha256"),
        sa.UniqueConstraint("storage_key", name=op.f("uq_evidence_storage_key")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evidence_criterion_id"), ["criterion_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_criterion_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_entry_id"))
    op.drop_table("evidence")

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_entries_verified_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_entries_submission_status"), type_="check")
        batch_op.drop_column("verified_by_id")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("personal_deadline")
        batch_op.drop_column("returned_at")
        batch_op.drop_column("returned_note")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("profile")
        batch_op.drop_column("submission_status")
