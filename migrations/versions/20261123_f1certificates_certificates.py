"""certificates and certificate settings

Revision ID: f1certificates
Revises: e1results
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "f1certificates"
down_revision = "e1results"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("subject_key", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_detail", sa.String(length=300), nullable=True),
        sa.Column("award", sa.String(length=120), nullable=True),
        sa.Column("category_name", sa.String(length=120), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('winner', 'participant', 'judge')", name=op.f("ck_certificates_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'judge' AND user_id IS NOT NULL AND entry_id IS NULL)"
            " OR (kind <> 'judge' AND entry_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_certificates_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_certificates_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_certificates_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_certificates_user_id_users")),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_certificates_issued_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_replaced_by_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint("event_id", "seq", name="uq_certificates_event_seq"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_certificates_live_subject",
            ["event_id", "kind", "subject_key"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
    op.create_table(
        "certificate_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("number_pattern", sa.String(length=120), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("winner_text", sa.Text(), nullable=True),
        sa.Column("participant_text", sa.Text(), nullable=True),
        sa.Column("judge_text", sa.Text(), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=False),
        sa.Column("accent_colour", sa.String(length=7), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_certificate_settings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_settings")),
        sa.UniqueConstraint("event_id", name=op.f("uq_certificate_settings_event_id")),
    )


def downgrade():
    op.drop_table("certificate_settings")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("uq_certificates_live_subject")
        batch_op.drop_index(batch_op.f("ix_certificates_user_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_entry_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_event_id"))
    op.drop_table("certificates")
