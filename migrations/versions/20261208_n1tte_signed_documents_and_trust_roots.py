"""electronic signatures: trusted roots and signed copies of the official documents

Revision ID: n1tte
Revises: l1board
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "n1tte"
down_revision = "l1board"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_trust_roots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("not_after", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_signing_trust_roots_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_trust_roots")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_signing_trust_roots_fingerprint")),
    )
    op.create_table(
        "signed_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("published_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("signer", sa.String(length=500), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('berita-acara', 'sk', 'rapor')", name=op.f("ck_signed_documents_kind")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_signed_documents_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_signed_documents_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_id"],
            ["published_results.id"],
            name=op.f("fk_signed_documents_published_id_published_results"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["users.id"],
            name=op.f("fk_signed_documents_signed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_documents")),
        sa.UniqueConstraint(
            "published_id", "kind", "entry_id", name="uq_signed_documents_doc"
        ),
    )
    with op.batch_alter_table("signed_documents") as batch:
        batch.create_index(
            batch.f("ix_signed_documents_event_id"), ["event_id"], unique=False
        )


def downgrade():
    op.drop_table("signed_documents")
    op.drop_table("signing_trust_roots")
